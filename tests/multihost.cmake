# Several hosts, for real: 3 network-namespace hosts on this machine (tests/multihost/, see
# netns_hosts.sh), mpirun over TCP and a 3-node Slurm cluster running the real trainer. Label
# multihost; they SKIP (77) where namespaces cannot be made (not root) and run once, in the
# Release build (nosan: they repeat the training code paths that the sanitized tests cover).
set(VKDP_MH_DIR ${CMAKE_BINARY_DIR}/multihost_test)
foreach(t mpi_same_result mpi_host_killed mpi_link_down slurm_3nodes)
  add_test(NAME multihost_${t} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/multihost/${t}.sh)
  set_tests_properties(multihost_${t} PROPERTIES
    ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;MPI_HELLO=$<TARGET_FILE:mpi_hello>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_MH_DIR}/${t}"
    LABELS "multihost;nosan" SKIP_RETURN_CODE 77 TIMEOUT 1800)
endforeach()
# One Slurm cluster at a time: each believes it owns every CPU of this host.
set_tests_properties(multihost_slurm_3nodes PROPERTIES RESOURCE_LOCK vkdp_slurm)
# The harness itself: names, addresses, reachability, the agent's refusal, refusal of names that
# exist, and nothing left behind after a normal end, SIGTERM or SIGKILL.
add_test(NAME multihost_harness COMMAND bash ${CMAKE_SOURCE_DIR}/tests/multihost/harness_selftest.sh)
set_tests_properties(multihost_harness PROPERTIES LABELS "multihost;nosan" SKIP_RETURN_CODE 77 TIMEOUT 300)
