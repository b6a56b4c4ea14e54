# dist module (every MPI call of the program): collectives, their chunked paths, the node layout,
# and the guard against MPI started without vkdp_dist_init.
vkdp_add_test_exe(test_dist tests/test_dist.c)
add_test(NAME dist_mpi COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np 3
         $<TARGET_FILE:test_dist>)
set_tests_properties(dist_mpi PROPERTIES ENVIRONMENT "${VKDP_MPI_TEST_ENV}" TIMEOUT 60)
# MPI_Init called directly, then a collective: one clear fatal line, exit status 1.
add_test(NAME dist_uninitialised COMMAND sh -c "$0 --raw-mpi-init 2>&1; echo exit=$?" $<TARGET_FILE:test_dist>)
set_tests_properties(dist_uninitialised PROPERTIES ENVIRONMENT "${VKDP_MPI_TEST_ENV}" TIMEOUT 60
  PASS_REGULAR_EXPRESSION "vkdp: rank 0: error: MPI is running but vkdp_dist_init was not called [^\n]*\nexit=1")
# Gradient buckets: layout and exact overlapped int64 allreduce, the same bits for -np 1, 2, 4.
vkdp_add_test_exe(test_bucket tests/test_bucket.c)
foreach(np 1 2 4)
  add_test(NAME dist_buckets_np${np} COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe
           -np ${np} $<TARGET_FILE:test_bucket>)
  set_tests_properties(dist_buckets_np${np} PROPERTIES ENVIRONMENT "${VKDP_MPI_TEST_ENV}" TIMEOUT 120)
endforeach()
