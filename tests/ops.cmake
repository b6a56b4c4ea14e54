# The ops and the Vulkan runtime under them: SPIR-V reflection, every binding kind through the
# recorder, the C references on their own, and the generic op test (tests/test_ops.c): each op's
# shaders against its C reference over its table of cases, one ctest per family (op_map: every
# map op, so that a new one needs no line here).
vkdp_embed_shaders(${CMAKE_BINARY_DIR}/spv_test/test_shaders.c test_shader
                   ${CMAKE_SOURCE_DIR}/tests/shaders)
add_library(vkdp_test_shaders STATIC ${CMAKE_BINARY_DIR}/spv_test/test_shaders.c)
target_include_directories(vkdp_test_shaders PUBLIC ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(vkdp_test_shaders PUBLIC Vulkan::Vulkan)
foreach(t vk_spirv vk_texel)
  vkdp_add_test_exe(test_${t} tests/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE vkdp_test_shaders)
  add_test(NAME ${t} COMMAND test_${t})
endforeach()
foreach(t head_ref op_records)
  vkdp_add_test_exe(test_${t} tests/test_${t}.c)
  add_test(NAME ${t} COMMAND test_${t})
endforeach()
vkdp_add_test_exe(test_ops tests/test_ops.c)
add_test(NAME op_conv1x1 COMMAND test_ops conv2d_1x1)
add_test(NAME op_eltwise COMMAND test_ops eltwise)
add_test(NAME op_map COMMAND test_ops map)
# (the op families, also run by the staged and validated twins: tests/memory.cmake, validation.cmake)
set(VKDP_BACKBONE_OPS stem_conv3x3_s2 dwconv gap se_excite se_gate)
set(VKDP_HEAD_OPS head_bn_stats head_bn_dropout head_logits_loss head_grad_sums adam)
add_test(NAME backbone_ops COMMAND test_ops ${VKDP_BACKBONE_OPS})
add_test(NAME head_ops COMMAND test_ops ${VKDP_HEAD_OPS})
# the backward ops of fine-tuning (vkdp/ops/grad_ops.h) and their unfused forward pieces
add_test(NAME grad_ops COMMAND test_ops conv1x1_grad dwconv_lin dwconv_grad se_gate_grad se_excite_grad
                                        bn_frozen bn_frozen_grad residual residual_grad gap_grad
                                        grad_fx_add)
# --augment's shaders against the C reference of vkdp/ops/augment_ref.h
add_test(NAME augment_ops COMMAND test_ops augment)
set_tests_properties(vk_spirv vk_texel head_ref op_records op_conv1x1 op_eltwise op_map backbone_ops
                     head_ops grad_ops augment_ops PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)
# Synchronization validation (VKDP_VALIDATION=3) over every binding kind, every op's cases and
# the whole backbone forward: a barrier the recorder left out is a SYNC-HAZARD error, fatal.
# The layer's own allocations outlive it (LeakSanitizer would report an "<unknown module>"), so
# no leak check here; once, in the Release build (validation is on by this variable there too).
set(VKDP_SYNC_ENV ${VKDP_MPI_TEST_ENV} "VKDP_VALIDATION=3")
add_test(NAME vk_sync_validation
  COMMAND sh -c "'$<TARGET_FILE:test_vk_texel>' && '$<TARGET_FILE:test_vk_runtime>' && '$<TARGET_FILE:test_ops>' && '$<TARGET_FILE:test_backbone>' '${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5' '${VKDP_SHARED_DIR}/data/flower_photos'")
set_tests_properties(vk_sync_validation PROPERTIES ENVIRONMENT "${VKDP_SYNC_ENV}" LABELS nosan
  TIMEOUT 600 FAIL_REGULAR_EXPRESSION "validation requested but")
# VKDP_TUNE: the override's parser (tests/test_tune_env.c), and the tiled ops against their C
# references under tiles and workgroups other than the device row's (the shapes' edges fall
# differently, the dispatch sizes change), then a bad spec refused by name before any work
vkdp_add_test_exe(test_tune_env tests/test_tune_env.c)
add_test(NAME tune_env COMMAND test_tune_env)
add_test(NAME ops_tune_override COMMAND bash -c
  "set -o pipefail; \"$0\" conv2d_1x1 stem_conv3x3_s2 dwconv se_gate | tee /dev/stderr | grep 'dw tile 4x2, gemm block 4x1' >/dev/null"
  $<TARGET_FILE:test_ops>)
# Every device but lavapipe gets the last row of the table (storage-buffer shaders, 2x1 stem and
# depthwise tiles, no fused gate, the shared-memory GEMM): its ops and the whole backbone against
# their C references, run here on lavapipe through VKDP_TUNE, since no GPU runs in CI.
set(VKDP_GPU_ROW "stem_texel=0,dw_texel=0,gate_texel=0,gate_fused=0,gemm_texel=0x0,gemm_smem=1,stem_tile=2x1,dw_tile=2x1")
add_test(NAME gpu_row_on_lavapipe COMMAND bash -c
  "set -o pipefail; { \"$0\" conv2d_1x1 stem_conv3x3_s2 dwconv se_gate conv1x1_grad dwconv_grad && \"$1\" \"$2\" \"$3\"; } | tee /dev/stderr | grep 'stem tile 2x1, dw tile 2x1, gemm block 0x0, gemm smem 1' >/dev/null"
  $<TARGET_FILE:test_ops> $<TARGET_FILE:test_backbone> ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5
  ${VKDP_SHARED_DIR}/data/flower_photos)
set_tests_properties(gpu_row_on_lavapipe PROPERTIES TIMEOUT 600 LABELS nosan
                     ENVIRONMENT "${VKDP_TEST_ENV};VKDP_TUNE=${VKDP_GPU_ROW}")
# the GPU row's batch independence (the shared-memory GEMM's tiles fall differently with M)
add_test(NAME backbone_batch_gpu_row COMMAND test_backbone_batch ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(backbone_batch_gpu_row PROPERTIES TIMEOUT 600 LABELS nosan
                     ENVIRONMENT "${VKDP_TEST_ENV};VKDP_TUNE=${VKDP_GPU_ROW}")
add_test(NAME ops_tune_bad COMMAND test_ops dwconv)
set_tests_properties(tune_env PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
set_tests_properties(ops_tune_override PROPERTIES TIMEOUT 300 ENVIRONMENT
                     "${VKDP_TEST_ENV};VKDP_TUNE=dw_tile=4x2,stem_tile=2x8,gemm_texel=4x1,wg=32")
set_tests_properties(ops_tune_bad PROPERTIES TIMEOUT 60 WILL_FAIL FALSE
                     ENVIRONMENT "${VKDP_TEST_ENV};VKDP_TUNE=dw_tile=16x8"
                     PASS_REGULAR_EXPRESSION "VKDP_TUNE: dw_tile=16x8 is out of range")
