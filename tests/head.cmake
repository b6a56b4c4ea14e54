# Head (issue 5): per-op shader vs C reference, backward vs finite differences, whole-head
# training, and bit-identical results for any number of MPI ranks.
vkdp_add_test_exe(test_head_ops tests/test_head_ops.c)
add_test(NAME head_ops COMMAND test_head_ops)
set_tests_properties(head_ops PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
vkdp_add_test_exe(test_head_grad tests/test_head_grad.c)
add_test(NAME head_grad_fd COMMAND test_head_grad)
set_tests_properties(head_grad_fd PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
vkdp_add_test_exe(test_head_train tests/test_head_train.c)
add_test(NAME head_train COMMAND test_head_train)
set_tests_properties(head_train PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)
