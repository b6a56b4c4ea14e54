# Validation in CI (issue 10): the op tests, the staged transfers and a small training job under
# Khronos synchronization validation (within and across queue submissions) and, where lavapipe
# can compile the instrumented shaders, GPU-assisted validation (out-of-bounds buffer accesses in
# shaders). Any validation error is
# fatal in vkdp (one line, exit 1). Two planted bugs prove the setup detects what it claims to:
# a missing barrier after the staged uploads, and a dispatch told to run past its buffers.
set(VKDP_SYNC_LAYER_ENV "VKDP_VALIDATION=1"
  "VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT:VALIDATION_CHECK_ENABLE_SYNCHRONIZATION_VALIDATION_QUEUE_SUBMIT")
set(VKDP_GPUAV_ENV "VKDP_VALIDATION=1" "VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT")
# sync_<test>: everything, the training job included. gpuav_<test>: the tests whose shaders
# lavapipe can still compile once GPU-AV has instrumented every buffer access. The GEMM's scalar
# variant, the stem and the depthwise convolution (8x8 / 8x4 register blocks) were still being
# compiled by LLVM 15 (CoroSplit, lavapipe's compute coroutines) after 15 minutes, so
# conv2d_1x1, the backbone ops and the training job are checked by sync validation only. (The
# layer's switch: VK_LAYER_ENABLES, which also checks hazards across queue submissions, the staged
# uploads' case; tests/ops.cmake's vk_sync_validation enables it through the API instead.)
set(VKDP_VALIDATED_TESTS "")
function(vkdp_validated kind env name)
  add_test(NAME ${kind}_${name} COMMAND ${ARGN})
  set_tests_properties(${kind}_${name} PROPERTIES ENVIRONMENT "${env}")
  set(VKDP_VALIDATED_TESTS ${VKDP_VALIDATED_TESTS} ${kind}_${name} PARENT_SCOPE)
endfunction()
foreach(kind sync gpuav)
  if(kind STREQUAL "sync")
    set(venv "${VKDP_TEST_ENV};${VKDP_SYNC_LAYER_ENV}")
  else()
    set(venv "${VKDP_TEST_ENV};${VKDP_GPUAV_ENV}")
  endif()
  vkdp_validated(${kind} "${venv}" vk_runtime test_vk_runtime)
  vkdp_validated(${kind} "${venv}" op_eltwise test_ops eltwise)
  vkdp_validated(${kind} "${venv}" head_ops test_ops ${VKDP_HEAD_OPS})
  vkdp_validated(${kind} "${venv}" head_grad_fd test_head_grad)
  vkdp_validated(${kind} "${venv}" head_train test_head_train)
  vkdp_validated(${kind} "${venv};VKDP_FORCE_STAGING=1;VKDP_BAR_MB=4" staging test_vk_staging staged)
endforeach()
set(venv "${VKDP_TEST_ENV};${VKDP_SYNC_LAYER_ENV}")
vkdp_validated(sync "${venv}" op_conv1x1 test_ops conv2d_1x1)
vkdp_validated(sync "${venv}" backbone_ops test_ops ${VKDP_BACKBONE_OPS})
vkdp_validated(sync "${VKDP_MPI_TEST_ENV};${VKDP_SYNC_LAYER_ENV};VKDP_FORCE_STAGING=1;TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${CMAKE_BINARY_DIR}/train_test/sync_train_small"
  train_small bash ${CMAKE_SOURCE_DIR}/tests/train_small.sh)
# Backbone calls in flight together (two slots, shared activations), direct and staged: every
# recording's opening barrier orders it after the other slot's pass. (Without that barrier there
# is no hazard to report today, so no planted twin: the previous pass's last internal barrier
# already orders all but its gap_top, which touches neither buffer the next pass's stem uses
# before its own first barrier. The opening barrier keeps that from depending on the rotation.)
set(bb_async $<TARGET_FILE:test_backbone_batch> ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5 async)
vkdp_validated(sync "${venv}" backbone_async ${bb_async})
vkdp_validated(sync "${venv};VKDP_FORCE_STAGING=1;VKDP_BAR_MB=4" backbone_async_staged ${bb_async})
# --drop-connect all's frozen forward: the residual pass after each residual block's project GEMM
set(bb_drop $<TARGET_FILE:test_backbone_drop> ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
vkdp_validated(sync "${venv}" backbone_drop ${bb_drop})
vkdp_validated(sync "${venv};VKDP_FORCE_STAGING=1;VKDP_BAR_MB=4" backbone_drop_staged ${bb_drop})
# The GPU row's stem and depthwise (storage buffers, 2x1 tiles: tests/ops.cmake) are small enough
# for lavapipe to compile instrumented (about 4 minutes each under load), so GPU-AV checks the
# shaders every GPU runs for out-of-bounds accesses.
vkdp_validated(gpuav "${VKDP_TEST_ENV};${VKDP_GPUAV_ENV};VKDP_TUNE=${VKDP_GPU_ROW}" gpu_row_ops
  test_ops stem_conv3x3_s2 dwconv)
# and the GPU row's shared-memory GEMM (its cases only: the scalar register-blocked variant is
# too slow to compile instrumented, above)
vkdp_validated(gpuav "${VKDP_TEST_ENV};${VKDP_GPUAV_ENV};VKDP_TUNE=${VKDP_GPU_ROW}" gpu_row_gemm
  test_ops conv2d_1x1:path=3)

# The planted bugs: each must be reported (and the run fail).
add_test(NAME sync_planted_hazard COMMAND sh -c "$0 staged 2>&1; echo exit=$?" $<TARGET_FILE:test_vk_staging>)
set_tests_properties(sync_planted_hazard PROPERTIES
  ENVIRONMENT "${VKDP_TEST_ENV};${VKDP_SYNC_LAYER_ENV};VKDP_FORCE_STAGING=1;VKDP_TEST_HAZARD=upload"
  PASS_REGULAR_EXPRESSION "Vulkan validation: .*SYNC-HAZARD-READ.AFTER.WRITE.*\nexit=1")
vkdp_add_test_exe(test_vk_planted_oob ${CMAKE_CURRENT_LIST_DIR}/test_vk_planted_oob.c)
add_test(NAME gpuav_planted_oob COMMAND sh -c "$0 2>&1; echo exit=$?" $<TARGET_FILE:test_vk_planted_oob>)
set_tests_properties(gpuav_planted_oob PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};${VKDP_GPUAV_ENV}"
  PASS_REGULAR_EXPRESSION "Vulkan validation: .*out of bounds.*\nexit=1")
list(APPEND VKDP_VALIDATED_TESTS sync_planted_hazard gpuav_planted_oob)
# The ASan build already runs every test under the default validation; these repeat work there.
set_tests_properties(${VKDP_VALIDATED_TESTS} PROPERTIES LABELS "validation;nosan" TIMEOUT 600)
# Instrumented compiles of every stem and depthwise specialisation: 454 s under load here.
set_tests_properties(gpuav_gpu_row_ops PROPERTIES TIMEOUT 1500)
