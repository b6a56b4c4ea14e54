# The whole EfficientNetB0 forward vs the model's plain-C reference (its ops one by one:
# backbone_ops in tests/ops.cmake).
vkdp_add_test_exe(test_backbone ${CMAKE_CURRENT_LIST_DIR}/test_backbone.c)
add_test(NAME backbone_forward
  COMMAND test_backbone ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5
          ${VKDP_SHARED_DIR}/data/flower_photos)
set_tests_properties(backbone_forward PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 600)
# Batch independence: each image's features bit-identical alone and inside batches and
# micro-batches of other sizes (no kernel variant chosen by batch size, no sums across images).
vkdp_add_test_exe(test_backbone_batch ${CMAKE_CURRENT_LIST_DIR}/test_backbone_batch.c)
add_test(NAME backbone_batch_independence
  COMMAND test_backbone_batch ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(backbone_batch_independence PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 600)
# The same calls left in flight with the switch at 1 (every submission waited for): the
# synchronous path of vkdp_backbone_submit, bit-identical to alone as well.
add_test(NAME backbone_async_depth1
  COMMAND test_backbone_batch ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5 async)
set_tests_properties(backbone_async_depth1 PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV};VKDP_TUNE=async_depth=1"
  TIMEOUT 600 PASS_REGULAR_EXPRESSION "async depth 1 .*all ok")
# --drop-connect all's frozen forward: each residual block with per-image drop connect vs the
# plain-C training block, dropped images' blocks the identity, micro-batches vs alone.
vkdp_add_test_exe(test_backbone_drop ${CMAKE_CURRENT_LIST_DIR}/test_backbone_drop.c)
add_test(NAME backbone_drop_connect
  COMMAND test_backbone_drop ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(backbone_drop_connect PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 600)
