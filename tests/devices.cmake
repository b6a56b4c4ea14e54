# Devices (issue 10): rank -> device mapping on synthetic multi-GPU nodes, `trainer devices`
# showing identity, memory table and plan, and --device lists checked at parse time.
vkdp_add_test_exe(test_vk_devsel ${CMAKE_CURRENT_LIST_DIR}/test_vk_devsel.c)
add_test(NAME vk_devsel COMMAND test_vk_devsel)
add_test(NAME cli_devices_memory COMMAND trainer devices)
# (CMake regexes have no {n}: the UUID's shape is checked loosely)
set_tests_properties(cli_devices_memory PROPERTIES PASS_REGULAR_EXPRESSION
  "uuid +[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\n  pci bus .*subgroup size +[0-9]+ \\(min [0-9]+, max [0-9]+\\).*memory heap 0 .*memory type 0 +heap 0 [A-Z_|]+\n  vkdp memory plan +direct: tensors in type 0, mapped\n  cooperative matrix +")
add_test(NAME cli_bad_device_list COMMAND sh -c "$0 features --device 0,x 2>&1; echo exit=$?" $<TARGET_FILE:trainer>)
set_tests_properties(cli_bad_device_list PROPERTIES PASS_REGULAR_EXPRESSION
  "trainer features: --device: '0,x' is not a device index or a comma-separated list of them\nexit=2")
# More ranks on a node than the --device list names: the rank without a device says so in one
# line and the job ends (MPI_Abort) instead of hanging.
add_test(NAME device_list_short COMMAND sh -c
  "timeout 120 $0 --allow-run-as-root --oversubscribe -np 3 $1 features --device 0,0 --data $2 --weights $3 --out $4 2>&1; echo exit=$?"
  ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:trainer> ${VKDP_SHARED_DIR}/data/flower_photos
  ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5 ${CMAKE_BINARY_DIR}/device_list_short.h5)
set_tests_properties(device_list_short PROPERTIES ENVIRONMENT "${VKDP_MPI_TEST_ENV};LP_NUM_THREADS=1" TIMEOUT 150
  PASS_REGULAR_EXPRESSION "the device list names 2 devices but this node runs 3 ranks \\(local rank 2 has none\\)"
  FAIL_REGULAR_EXPRESSION "exit=0|exit=124")
# A bad VKDP_DEVICE is named as such.
add_test(NAME device_env_bad COMMAND sh -c "$0 2>&1; echo exit=$?" $<TARGET_FILE:test_vk_runtime>)
set_tests_properties(device_env_bad PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};VKDP_DEVICE=0,x"
  PASS_REGULAR_EXPRESSION "VKDP_DEVICE: '0,x' is not a device index or a comma-separated list of them.*
exit=1")
set_tests_properties(vk_devsel cli_devices_memory PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
# features has called MPI_Init before parsing: Open MPI's runtime leaks are not vkdp's
set_tests_properties(cli_bad_device_list PROPERTIES ENVIRONMENT "${VKDP_MPI_TEST_ENV}")
