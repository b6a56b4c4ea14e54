# Device memory (issue 10): the memory-type plan on synthetic tables of real GPUs, uploads and
# downloads in the direct plan and in the staged plan (VKDP_FORCE_STAGING on lavapipe, with a
# 4 MiB emulated BAR so transfers outgrow the 1 MiB staging ring, and once with a 1 MiB BAR as
# if no memory were coherent: every flush and invalidate is issued), and the op, backbone and training tests again in the staged plan.
vkdp_add_test_exe(test_vk_memplan ${CMAKE_CURRENT_LIST_DIR}/test_vk_memplan.c)
add_test(NAME vk_memplan COMMAND test_vk_memplan)

vkdp_add_test_exe(test_vk_staging ${CMAKE_CURRENT_LIST_DIR}/test_vk_staging.c)
add_test(NAME vk_staging_direct COMMAND test_vk_staging direct)
add_test(NAME vk_staging_staged COMMAND test_vk_staging staged)
add_test(NAME vk_staging_noncoherent COMMAND test_vk_staging staged)
set_tests_properties(vk_memplan PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
# direct even in launch/test.sh's pass that exports VKDP_FORCE_STAGING=1 to every test
set_tests_properties(vk_staging_direct PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};VKDP_FORCE_STAGING=0")
set_tests_properties(vk_staging_staged PROPERTIES
  ENVIRONMENT "${VKDP_TEST_ENV};VKDP_FORCE_STAGING=1;VKDP_BAR_MB=4")
set_tests_properties(vk_staging_noncoherent PROPERTIES
  ENVIRONMENT "${VKDP_TEST_ENV};VKDP_FORCE_STAGING=1;VKDP_BAR_MB=1;VKDP_FORCE_NONCOHERENT=1")
set_tests_properties(vk_staging_direct vk_staging_staged vk_staging_noncoherent PROPERTIES TIMEOUT 120)

# The staged twins: the same command, the original's environment plus VKDP_FORCE_STAGING=1 (a
# 256 MiB emulated BAR), label `staged`. Deferred to the end of the directory so that every
# original exists. refactor_identity_staged (the whole backbone and training, which must
# reproduce the direct plan's bits exactly) stands for backbone_forward too. Under the sanitizers
# only the small ones run: the others repeat the same staging code at full size.
function(vkdp_staged_twin name)
  get_test_property(${name} ENVIRONMENT env)
  get_test_property(${name} TIMEOUT timeout)
  get_test_property(${name} LABELS labels)
  get_test_property(${name} FIXTURES_REQUIRED fixtures)
  if(NOT env)
    message(FATAL_ERROR "staged twin: no test ${name} (renamed?)")
  endif()
  add_test(NAME ${name}_staged COMMAND ${ARGN})
  set(lab staged)
  if(labels)
    list(APPEND lab ${labels})
  endif()
  set_tests_properties(${name}_staged PROPERTIES ENVIRONMENT "${env};VKDP_FORCE_STAGING=1" LABELS "${lab}")
  if(timeout)
    set_tests_properties(${name}_staged PROPERTIES TIMEOUT ${timeout})
  endif()
  if(fixtures)
    set_tests_properties(${name}_staged PROPERTIES FIXTURES_REQUIRED "${fixtures}")
  endif()
endfunction()

function(vkdp_add_staged_twins)
  vkdp_staged_twin(vk_runtime $<TARGET_FILE:test_vk_runtime>)
  vkdp_staged_twin(op_conv1x1 $<TARGET_FILE:test_ops> conv2d_1x1)
  vkdp_staged_twin(op_eltwise $<TARGET_FILE:test_ops> eltwise)
  vkdp_staged_twin(op_map $<TARGET_FILE:test_ops> map)
  vkdp_staged_twin(backbone_ops $<TARGET_FILE:test_ops> ${VKDP_BACKBONE_OPS})
  vkdp_staged_twin(head_ops $<TARGET_FILE:test_ops> ${VKDP_HEAD_OPS})
  vkdp_staged_twin(head_grad_fd $<TARGET_FILE:test_head_grad>)
  vkdp_staged_twin(head_train $<TARGET_FILE:test_head_train>)
  vkdp_staged_twin(refactor_identity bash ${CMAKE_SOURCE_DIR}/tests/refactor_identity.sh)
  set_tests_properties(backbone_ops_staged head_train_staged PROPERTIES LABELS "staged;nosan")
  # its own scratch folder: the direct run may be going on at the same time
  get_test_property(refactor_identity_staged ENVIRONMENT env)
  list(TRANSFORM env REPLACE "^WORK=.*" "WORK=${CMAKE_BINARY_DIR}/train_test/refactor_identity_staged")
  set_tests_properties(refactor_identity_staged PROPERTIES ENVIRONMENT "${env}")
  # backbone calls in flight, staged: the older call is collected before the next is submitted
  vkdp_staged_twin(features_async bash ${CMAKE_SOURCE_DIR}/tests/features_async.sh)
  get_test_property(features_async_staged ENVIRONMENT env)
  list(TRANSFORM env REPLACE "^WORK=.*" "WORK=${CMAKE_BINARY_DIR}/features_async_staged_test")
  set_tests_properties(features_async_staged PROPERTIES ENVIRONMENT "${env}" LABELS "staged;nosan")
endfunction()
cmake_language(DEFER CALL vkdp_add_staged_twins)
