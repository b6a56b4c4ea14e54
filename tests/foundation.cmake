# Foundation: the Vulkan runtime and the CLI's first words (the ops: tests/ops.cmake).
vkdp_add_test_exe(test_vk_runtime tests/test_vk_runtime.c)
add_test(NAME vk_runtime COMMAND test_vk_runtime)
add_test(NAME cli_devices COMMAND trainer devices)
set_tests_properties(cli_devices PROPERTIES PASS_REGULAR_EXPRESSION "maxStorageBufferRange")
add_test(NAME cli_help COMMAND trainer --help)
set_tests_properties(cli_help PROPERTIES PASS_REGULAR_EXPRESSION "subcommands:")
set_tests_properties(vk_runtime cli_devices cli_help PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
