# core module: the rng helpers every seeded stream depends on, and the comma-list splitter.
vkdp_add_test_exe(test_core tests/test_core.c)
add_test(NAME core_helpers COMMAND test_core)
set_tests_properties(core_helpers PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
