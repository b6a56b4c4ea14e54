# Command line: every shared flag's limit and message, for every subcommand that takes it (MPI
# environment: train, evaluate, predict and features call MPI_Init before parsing their flags).
add_test(NAME cli_bad_flag COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli_bad_flag.sh)
set_tests_properties(cli_bad_flag PROPERTIES TIMEOUT 300
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>")
