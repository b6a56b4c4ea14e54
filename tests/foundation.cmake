# Foundation: the Vulkan runtime and the CLI's first words (the ops: tests/ops.cmake).
vkdp_add_test_exe(test_vk_runtime tests/test_vk_runtime.c)
add_test(NAME vk_runtime COMMAND test_vk_runtime)
add_test(NAME cli_devices COMMAND trainer devices)
set_tests_properties(cli_devices PROPERTIES PASS_REGULAR_EXPRESSION "maxStorageBufferRange")
add_test(NAME cli_help COMMAND trainer --help)
set_tests_properties(cli_help PROPERTIES PASS_REGULAR_EXPRESSION "subcommands:")
set_tests_properties(vk_runtime cli_devices cli_help PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
# A bad flag value: one clear line naming the flag, exit status 2, before any Vulkan work (train
# has already called MPI_Init, hence the MPI environment: no leak check of Open MPI's runtime).
add_test(NAME cli_bad_flag COMMAND sh -c "$0 train --batch x 2>&1; echo exit=$?" $<TARGET_FILE:trainer>)
set_tests_properties(cli_bad_flag PROPERTIES ENVIRONMENT "${VKDP_MPI_TEST_ENV}"
  PASS_REGULAR_EXPRESSION "trainer train: --batch 'x' is not an integer in 1..4096\nexit=2")
