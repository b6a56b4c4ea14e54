# Results and packaging (issue #14): --version, the CSV log, the dataset grid, the HTML report
# (rendered by headless Chromium) and the .deb.
add_test(NAME cli_version COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_version.sh)
set_tests_properties(cli_version PROPERTIES
  ENVIRONMENT "${VKDP_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SRC=${CMAKE_SOURCE_DIR}")
