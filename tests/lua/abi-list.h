/*
 * abi-list.h - the layout facts that berth-plugin.h must share with the
 * internal headers: included by abi-public.c (public header only) and
 * abi-core.c (berth's own headers), which compare the two lists.
 */
#define ABI_FACTS(X) \
	X(sizeof(struct berr)) X(offsetof(struct berr, msg)) X(BERR_REMOTE) X(BERR_NOTSUP) \
	X(sizeof(struct instance)) X(offsetof(struct instance, uuid)) \
	X(offsetof(struct instance, kind)) X(offsetof(struct instance, backend)) \
	X(offsetof(struct instance, conn)) X(offsetof(struct instance, host)) \
	X(offsetof(struct instance, state)) X(offsetof(struct instance, reason)) \
	X(offsetof(struct instance, vcpus)) X(offsetof(struct instance, memory_kib)) \
	X(offsetof(struct instance, created)) X(offsetof(struct instance, started)) \
	X(offsetof(struct instance, priv)) X(INST_CONTAINER) X(INST_CRASHED) X(INST_STATE_MAX) \
	X(sizeof(struct inst_stats)) X(offsetof(struct inst_stats, valid)) \
	X(offsetof(struct inst_stats, vcpus)) X(offsetof(struct inst_stats, net_tx_pkts)) \
	X(sizeof(struct inst_list)) X(offsetof(struct inst_list, cap)) \
	X(sizeof(struct backend_event)) X(offsetof(struct backend_event, detail)) \
	X(sizeof(struct define_spec)) X(offsetof(struct define_spec, xml)) \
	X(sizeof(struct migrate_opts)) X(offsetof(struct migrate_opts, arg)) \
	X(sizeof(struct backend_ops)) X(offsetof(struct backend_ops, abi_version)) \
	X(offsetof(struct backend_ops, open)) X(offsetof(struct backend_ops, host_info)) \
	X(offsetof(struct backend_ops, list)) X(offsetof(struct backend_ops, define)) \
	X(offsetof(struct backend_ops, stats)) X(offsetof(struct backend_ops, console_open)) \
	X(offsetof(struct backend_ops, migrate)) X(offsetof(struct backend_ops, exec)) \
	X(offsetof(struct backend_ops, free_priv)) X(offsetof(struct backend_ops, info)) \
	X(sizeof(struct bconn)) X(offsetof(struct bconn, uri)) X(BERTH_BACKEND_ABI)

#define ABI_COUNT_ONE(f) +1
#define ABI_COUNT (0 ABI_FACTS(ABI_COUNT_ONE))
