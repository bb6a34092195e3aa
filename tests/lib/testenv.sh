# testenv.sh - sourced before every test (AM_TESTS_ENVIRONMENT); run-test.sh
# then gives each test its own BERTH_RUN_DIR/DATA_DIR/CONFIG_DIR.
# Tests never use a system libvirtd unless they start their own.
BERTH_NO_DEFAULT_LIBVIRT=1; export BERTH_NO_DEFAULT_LIBVIRT
# Shared cache for downloaded Debian packages and built assets (kernel,
# initramfs): kept across tests and runs, inside the build tree.
BERTH_TEST_CACHE="${BERTH_TEST_CACHE:-$top_builddir/tests/.cache}"; export BERTH_TEST_CACHE
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"; export ASAN_OPTIONS
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"; export UBSAN_OPTIONS
