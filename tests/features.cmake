# `trainer features` vs the independent PyTorch reference on real images.
vkdp_add_test_exe(test_dump_inputs ${CMAKE_SOURCE_DIR}/tests/test_dump_inputs.c)
add_test(NAME features_vs_torch COMMAND bash ${CMAKE_SOURCE_DIR}/tests/features_vs_torch.sh)
set_tests_properties(features_vs_torch PROPERTIES TIMEOUT 600
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;DUMP=$<TARGET_FILE:test_dump_inputs>;SHARED=${VKDP_SHARED_DIR};WORK=${CMAKE_BINARY_DIR}/features_test")
# Backbone calls in flight vs submit-and-wait: the same features bit for bit.
add_test(NAME features_async COMMAND bash ${CMAKE_SOURCE_DIR}/tests/features_async.sh)
set_tests_properties(features_async PROPERTIES TIMEOUT 600 LABELS nosan
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${CMAKE_BINARY_DIR}/features_async_test")
