# Validation in CI (issue 10): the op tests, the staged transfers and a small training job under
# Khronos synchronization validation (within and across queue submissions) and under GPU-assisted
# validation (out-of-bounds buffer accesses in shaders), on lavapipe. Any validation error is
# fatal in vkdp (one line, exit 1). Two planted bugs prove the setup detects what it claims to:
# a missing barrier after the staged uploads, and a dispatch told to run past its buffers.
set(VKDP_SYNC_ENV "VKDP_VALIDATION=1"
  "VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT:VALIDATION_CHECK_ENABLE_SYNCHRONIZATION_VALIDATION_QUEUE_SUBMIT")
set(VKDP_GPUAV_ENV "VKDP_VALIDATION=1" "VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT")
set(VKDP_VALIDATED_TESTS "")
foreach(kind sync gpuav)
  if(kind STREQUAL "sync")
    set(venv ${VKDP_SYNC_ENV})
  else()
    set(venv ${VKDP_GPUAV_ENV})
  endif()
  add_test(NAME ${kind}_vk_runtime COMMAND test_vk_runtime)
  add_test(NAME ${kind}_op_conv1x1 COMMAND test_op_conv1x1)
  add_test(NAME ${kind}_op_eltwise COMMAND test_op_eltwise)
  add_test(NAME ${kind}_backbone_ops COMMAND test_backbone_ops)
  add_test(NAME ${kind}_head_ops COMMAND test_head_ops)
  add_test(NAME ${kind}_staging COMMAND test_vk_staging staged)
  set_tests_properties(${kind}_vk_runtime ${kind}_op_conv1x1 ${kind}_op_eltwise ${kind}_backbone_ops
    ${kind}_head_ops PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};${venv}")
  set_tests_properties(${kind}_staging PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};${venv};VKDP_FORCE_STAGING=1;VKDP_BAR_MB=4")
  add_test(NAME ${kind}_train_small COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_small.sh)
  set_tests_properties(${kind}_train_small PROPERTIES ENVIRONMENT
    "${VKDP_MPI_TEST_ENV};${venv};VKDP_FORCE_STAGING=1;TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${CMAKE_BINARY_DIR}/train_test/${kind}_train_small")
  list(APPEND VKDP_VALIDATED_TESTS ${kind}_vk_runtime ${kind}_op_conv1x1 ${kind}_op_eltwise
    ${kind}_backbone_ops ${kind}_head_ops ${kind}_staging ${kind}_train_small)
endforeach()

# The planted bugs: each must be reported (and the run fail).
add_test(NAME sync_planted_hazard COMMAND sh -c "$0 staged 2>&1; echo exit=$?" $<TARGET_FILE:test_vk_staging>)
set_tests_properties(sync_planted_hazard PROPERTIES
  ENVIRONMENT "${VKDP_TEST_ENV};${VKDP_SYNC_ENV};VKDP_FORCE_STAGING=1;VKDP_TEST_HAZARD=upload"
  PASS_REGULAR_EXPRESSION "Vulkan validation: .*SYNC-HAZARD-READ.AFTER.WRITE.*\nexit=1")
vkdp_add_test_exe(test_vk_planted_oob ${CMAKE_CURRENT_LIST_DIR}/test_vk_planted_oob.c)
add_test(NAME gpuav_planted_oob COMMAND sh -c "$0 2>&1; echo exit=$?" $<TARGET_FILE:test_vk_planted_oob>)
set_tests_properties(gpuav_planted_oob PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};${VKDP_GPUAV_ENV}"
  PASS_REGULAR_EXPRESSION "Vulkan validation: .*out of bounds.*\nexit=1")
list(APPEND VKDP_VALIDATED_TESTS sync_planted_hazard gpuav_planted_oob)
# The ASan build already runs every test under the default validation; these repeat work there.
set_tests_properties(${VKDP_VALIDATED_TESTS} PROPERTIES LABELS "validation;nosan" TIMEOUT 900)
