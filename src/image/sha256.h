/*
 * sha256.h - SHA-256 (FIPS 180-4) for verifying OCI content digests.
 * Not for: anything secret (no constant-time guarantees are needed or made).
 */
#ifndef BERTH_IMAGE_SHA256_H
#define BERTH_IMAGE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t buflen;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN]);
/* Finish and write 64 lowercase hex digits plus NUL into hex. */
void sha256_final_hex(struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1]);
/* One-shot: hex digest of a buffer. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);
/* Hex digest of a whole file; -1 with errno on I/O errors. */
int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1]);

#endif
