# Fine-tuning references (issue 12, phase 1): backward C references vs finite differences, the
# whole-block backward vs an independent PyTorch autograd reference on the real weights, and the
# augmentation reference vs NumPy.
set(VKDP_FINETUNE_TEST_DIR ${CMAKE_BINARY_DIR}/finetune_test)
file(MAKE_DIRECTORY ${VKDP_FINETUNE_TEST_DIR})

vkdp_add_test_exe(test_grad_ref ${CMAKE_SOURCE_DIR}/tests/test_grad_ref.c)
add_test(NAME grad_ref_fd COMMAND test_grad_ref)

add_test(NAME effnet_grad_torch_ref
  COMMAND ${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/effnet_grad_torch.py
          ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5 ${VKDP_FINETUNE_TEST_DIR}/grad)
set_tests_properties(effnet_grad_torch_ref PROPERTIES FIXTURES_SETUP effnet_grad_ref)
vkdp_add_test_exe(test_effnet_block_grad ${CMAKE_SOURCE_DIR}/tests/test_effnet_block_grad.c)
add_test(NAME effnet_block_grad_vs_torch
  COMMAND test_effnet_block_grad ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5
          ${VKDP_FINETUNE_TEST_DIR}/grad)
set_tests_properties(effnet_block_grad_vs_torch PROPERTIES FIXTURES_REQUIRED effnet_grad_ref)

# the same two-block check through the device's backward shaders (vkdp/model/block_dev.h)
add_test(NAME effnet_block_grad_device_vs_torch
  COMMAND test_effnet_block_grad ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5
          ${VKDP_FINETUNE_TEST_DIR}/grad device)
set_tests_properties(effnet_block_grad_device_vs_torch PROPERTIES FIXTURES_REQUIRED effnet_grad_ref)

# the exact path (docs/fine-tuning.md section 5) with micro-batches of one sample: int64
# fixed-point weight-gradient sums (grad_fx_add), the same bits in reverse sample order
add_test(NAME effnet_block_grad_exact_vs_torch
  COMMAND test_effnet_block_grad ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5
          ${VKDP_FINETUNE_TEST_DIR}/grad exact)
set_tests_properties(effnet_block_grad_exact_vs_torch PROPERTIES FIXTURES_REQUIRED effnet_grad_ref)

set_tests_properties(grad_ref_fd effnet_grad_torch_ref effnet_block_grad_vs_torch
  effnet_block_grad_device_vs_torch effnet_block_grad_exact_vs_torch PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

vkdp_add_test_exe(test_augment_dump ${CMAKE_SOURCE_DIR}/tests/test_augment_dump.c)
add_test(NAME augment_vs_numpy
  COMMAND ${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/augment_ref.py
          $<TARGET_FILE:test_augment_dump> ${VKDP_SHARED_DIR}/data/flower_photos)
set_tests_properties(augment_vs_numpy PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

vkdp_add_test_exe(test_augment ${CMAKE_SOURCE_DIR}/tests/test_augment.c)
add_test(NAME augment_ref COMMAND test_augment)
set_tests_properties(augment_ref PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

# --fine-tune-from / --trainable-top: block boundaries, Keras' layer counting, the design note's
# parameter and tape sizes; the layer list equals the weights file's layer_names attribute.
vkdp_add_test_exe(test_finetune_plan ${CMAKE_SOURCE_DIR}/tests/test_finetune_plan.c)
add_test(NAME finetune_plan COMMAND test_finetune_plan)
add_test(NAME finetune_plan_layer_names
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/finetune_layer_names.sh $<TARGET_FILE:test_finetune_plan>
          ${VKDP_SYS_PYTHON} ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(finetune_plan finetune_plan_layer_names PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 60)

add_test(NAME finetune_flags COMMAND bash ${CMAKE_SOURCE_DIR}/tests/finetune_flags.sh)
set_tests_properties(finetune_flags PROPERTIES TIMEOUT 60
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>")
add_test(NAME finetune_plan_tensors
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/finetune_tensors.sh $<TARGET_FILE:test_finetune_plan>
          ${VKDP_SYS_PYTHON} ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(finetune_plan_tensors PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 60)

# phase 2's trainable part on the device: pooled features and every trainable tensor's exact
# gradient vs the C references (block4a, block6a, block7a, top_conv alone; the blocks also in
# chunks of 2 samples, bit for bit)
vkdp_add_test_exe(test_ftpart ${CMAKE_SOURCE_DIR}/tests/test_ftpart.c)
add_test(NAME finetune_part_vs_ref COMMAND test_ftpart ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(finetune_part_vs_ref PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 600)

# tests/bench/vkdp_draws.py, the peer's replay of vkdp's random draws (torch_finetune.py
# --vkdp-draws), against the C draws bit for bit: epoch orders, head kernel, dropout, drop connect.
vkdp_add_test_exe(test_draws_dump ${CMAKE_SOURCE_DIR}/tests/test_draws_dump.c)
add_test(NAME vkdp_draws_vs_c
  COMMAND ${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/vkdp_draws_check.py $<TARGET_FILE:test_draws_dump>)
set_tests_properties(vkdp_draws_vs_c PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
