# Fine-tuning references (issue 12, phase 1): backward C references vs finite differences.
vkdp_add_test_exe(test_grad_ref ${CMAKE_SOURCE_DIR}/tests/test_grad_ref.c)
add_test(NAME grad_ref_fd COMMAND test_grad_ref)
set_tests_properties(grad_ref_fd PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)
