# The h5 module on its own: scoped error printing, the string-array reader, the atomic writer.
vkdp_add_test_exe(test_h5 ${CMAKE_SOURCE_DIR}/tests/test_h5.c)
add_test(NAME h5_layer COMMAND test_h5 ${CMAKE_BINARY_DIR}/h5_test)
set_tests_properties(h5_layer PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
