# Head (issue 5): backward vs finite differences, whole-head training, and bit-identical results
# for any number of MPI ranks (its ops one by one: head_ops and head_ref in tests/ops.cmake).
vkdp_add_test_exe(test_head_grad tests/test_head_grad.c)
add_test(NAME head_grad_fd COMMAND test_head_grad)
set_tests_properties(head_grad_fd PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
vkdp_add_test_exe(test_head_train tests/test_head_train.c)
add_test(NAME head_train COMMAND test_head_train)
set_tests_properties(head_train PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

# np-equivalence: the same training under 1..4 ranks must write byte-identical outputs, and
# every rank must hold the same replica after every step (--check-replicas 1).
# Under mpirun, LeakSanitizer would report Open MPI's own leaks from components it dlclose()s:
# their frames are then an "<unknown module>" no suppression can name, and the slow unwinder
# that would reach libmpi deadlocks with LLVM's JIT. So these runs keep ASan/UBSan but not LSan;
# the head's own allocations are leak-checked by head_ops, head_grad_fd and head_train.
set(HEAD_MPI_ENV ${VKDP_MPI_TEST_ENV} "LP_NUM_THREADS=1")
vkdp_add_test_exe(test_head_np tests/test_head_np.c)
set(HEAD_NP_DIR ${CMAKE_BINARY_DIR}/head_np)
file(MAKE_DIRECTORY ${HEAD_NP_DIR})
set(HEAD_NP_OUTS "")
foreach(np 1 2 3 4)
  add_test(NAME head_np${np}
    COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np ${np} -x LP_NUM_THREADS=1
            $<TARGET_FILE:test_head_np> ${HEAD_NP_DIR}/np${np}.bin --check-replicas 1)
  set_tests_properties(head_np${np} PROPERTIES ENVIRONMENT "${HEAD_MPI_ENV}"
    TIMEOUT 300 FIXTURES_SETUP head_np_outputs)
  list(APPEND HEAD_NP_OUTS ${HEAD_NP_DIR}/np${np}.bin)
endforeach()
add_test(NAME head_np_identical COMMAND sh ${CMAKE_SOURCE_DIR}/tests/head_np_cmp.sh ${HEAD_NP_OUTS})
set_tests_properties(head_np_identical PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}"
  FIXTURES_REQUIRED head_np_outputs TIMEOUT 30)
# The plain-C reference backend through MPI as well (1 vs 3 ranks).
foreach(np 1 3)
  add_test(NAME head_np${np}_ref
    COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np ${np}
            $<TARGET_FILE:test_head_np> ${HEAD_NP_DIR}/ref_np${np}.bin --ref)
  set_tests_properties(head_np${np}_ref PROPERTIES ENVIRONMENT "${HEAD_MPI_ENV}"
    TIMEOUT 300 FIXTURES_SETUP head_np_ref_outputs)
endforeach()
add_test(NAME head_np_ref_identical COMMAND sh ${CMAKE_SOURCE_DIR}/tests/head_np_cmp.sh
  ${HEAD_NP_DIR}/ref_np1.bin ${HEAD_NP_DIR}/ref_np3.bin)
set_tests_properties(head_np_ref_identical PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}"
  FIXTURES_REQUIRED head_np_ref_outputs TIMEOUT 30)
# --check-replicas aborts a job whose replicas diverged (test hook perturbs rank 1).
add_test(NAME head_check_replicas
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/head_replica_check.sh ${MPIEXEC_EXECUTABLE}
          $<TARGET_FILE:test_head_np> ${HEAD_NP_DIR})
set_tests_properties(head_check_replicas PROPERTIES ENVIRONMENT "${HEAD_MPI_ENV}"
  TIMEOUT 180)
# Features beyond the fixed-point range abort every rank with a message, never a wrong sum.
add_test(NAME head_fx_overflow
  COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np 2
          $<TARGET_FILE:test_head_np> ${HEAD_NP_DIR}/overflow.bin --ref --feature-scale 1e6)
set_tests_properties(head_fx_overflow PROPERTIES ENVIRONMENT "${HEAD_MPI_ENV}" TIMEOUT 60
  PASS_REGULAR_EXPRESSION "per-sample terms of the BatchNorm sum exceed the fixed-point range")
# Independent replay in float64 torch of Keras' formulas (BN, dropout, dense, CE, Adam, moving
# statistics, inference), tensors compared after every step.
vkdp_add_test_exe(test_head_dump tests/test_head_dump.c)
add_test(NAME head_keras_ref
  COMMAND sh -c "mkdir -p '${HEAD_NP_DIR}/dump' && '$<TARGET_FILE:test_head_dump>' '${HEAD_NP_DIR}/dump' && '${VKDP_SYS_PYTHON}' '${CMAKE_SOURCE_DIR}/tests/ref/head_keras_ref.py' '${HEAD_NP_DIR}/dump'")
set_tests_properties(head_keras_ref PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
