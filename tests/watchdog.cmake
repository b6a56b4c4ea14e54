# The collective watchdog: the core thread in a forked child (fires, stays quiet, ends a hung
# abort), and in a real 2-rank training job with a stalled rank.
vkdp_add_test_exe(test_watchdog ${CMAKE_SOURCE_DIR}/tests/test_watchdog.c)
add_test(NAME watchdog_unit COMMAND test_watchdog)
set_tests_properties(watchdog_unit PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
add_test(NAME train_watchdog COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_watchdog.sh)
set_tests_properties(train_watchdog PROPERTIES
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${CMAKE_BINARY_DIR}/train_test/train_watchdog"
  TIMEOUT 900)
