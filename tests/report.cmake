# Results and packaging (issue #14): --version, the CSV log, the dataset grid, the HTML report
# (rendered by headless Chromium) and the .deb.
add_test(NAME cli_version COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_version.sh)
set_tests_properties(cli_version PROPERTIES
  ENVIRONMENT "${VKDP_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SRC=${CMAKE_SOURCE_DIR}")

set(VKDP_REPORT_TEST_DIR ${CMAKE_BINARY_DIR}/report_test)
file(MAKE_DIRECTORY ${VKDP_REPORT_TEST_DIR})
# CSV log: number formatting against Python's repr, file handling (sanitized), then end to end
vkdp_add_test_exe(test_py_repr ${CMAKE_SOURCE_DIR}/tests/test_py_repr.c)
vkdp_add_test_exe(test_csv_log ${CMAKE_SOURCE_DIR}/tests/test_csv_log.c)
add_test(NAME csv_py_repr COMMAND sh -c "$0 > ${VKDP_REPORT_TEST_DIR}/repr.txt && ${VKDP_SYS_PYTHON} $1 ${VKDP_REPORT_TEST_DIR}/repr.txt"
  $<TARGET_FILE:test_py_repr> ${CMAKE_SOURCE_DIR}/tests/py_repr_check.py)
add_test(NAME csv_log_file COMMAND test_csv_log ${VKDP_REPORT_TEST_DIR}/csv_log_file)
set_tests_properties(csv_py_repr csv_log_file PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
# six short training runs: nosan, the sanitized tests above cover the CSV code
add_test(NAME train_csv_log COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_csv_log.sh)
set_tests_properties(train_csv_log PROPERTIES TIMEOUT 900 LABELS nosan ENVIRONMENT
  "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_REPORT_TEST_DIR}/csv_log")

vkdp_add_test_exe(test_font ${CMAKE_SOURCE_DIR}/tests/test_font.c)
add_test(NAME image_font COMMAND test_font)
add_test(NAME dataset_grid COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_grid.sh)
set_tests_properties(image_font dataset_grid PROPERTIES ENVIRONMENT
  "${VKDP_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_REPORT_TEST_DIR}/grid")

# HTML report: built and checked, then rendered by headless Chromium (skipped without chromium)
add_test(NAME report_e2e COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_e2e.sh)
add_test(NAME report_render COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_render.sh)
add_test(NAME report_limit COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_limit.sh)
set_tests_properties(report_e2e PROPERTIES FIXTURES_SETUP report_html TIMEOUT 900 ENVIRONMENT
  "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_REPORT_TEST_DIR}/report_e2e")
# one more evaluation of the same model, on one rank: nosan, report_e2e is its sanitized twin
set_tests_properties(report_limit PROPERTIES FIXTURES_REQUIRED report_html LABELS nosan TIMEOUT 600 ENVIRONMENT
  "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_REPORT_TEST_DIR}/report_limit;E2E=${VKDP_REPORT_TEST_DIR}/report_e2e")
set_tests_properties(report_render PROPERTIES FIXTURES_REQUIRED report_html SKIP_RETURN_CODE 77 TIMEOUT 600
  ENVIRONMENT "WORK=${VKDP_REPORT_TEST_DIR}/report_render;PAGE=${VKDP_REPORT_TEST_DIR}/report_e2e/report/index.html")

# Packaging: cmake --install and the .deb (the Release build's; a sanitized binary is no package)
add_test(NAME package_deb COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_deb.sh)
set_tests_properties(package_deb PROPERTIES LABELS nosan TIMEOUT 600 ENVIRONMENT
  "${VKDP_TEST_ENV};BUILD=${CMAKE_BINARY_DIR};VERSION=${PROJECT_VERSION};WORK=${VKDP_REPORT_TEST_DIR}/package")

# Keras export of report_e2e's checkpoint: layout, values, its accuracy from the file alone, and
# read back by predict/evaluate under mpirun (hence the MPI environment: see VKDP_MPI_TEST_ENV)
add_test(NAME report_export COMMAND bash ${CMAKE_SOURCE_DIR}/tests/report_export.sh)
set_tests_properties(report_export PROPERTIES FIXTURES_REQUIRED report_html TIMEOUT 600 ENVIRONMENT
  "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;DUMP=$<TARGET_FILE:test_dump_inputs>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_REPORT_TEST_DIR}/export;E2E=${VKDP_REPORT_TEST_DIR}/report_e2e")
