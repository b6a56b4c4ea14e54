# The training job end to end on real flower photos, rank-count equivalence, failure + resume.
set(VKDP_TRAIN_TEST_DIR ${CMAKE_BINARY_DIR}/train_test)
foreach(t train_e2e train_np_equiv train_resume train_class_names train_data_agree train_out_lock train_out_probe train_augment train_feature_batch train_finetune train_finetune_tiled train_kill_in_flight train_draw_seed train_drop_connect_all)
  add_test(NAME ${t} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/${t}.sh)
  set_tests_properties(${t} PROPERTIES
    ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_TRAIN_TEST_DIR}/${t}"
    TIMEOUT 900)
endforeach()
set_tests_properties(train_out_probe PROPERTIES SKIP_RETURN_CODE 77)
# the same fine-tuning checks from block7a (block7a + top_conv trainable)
add_test(NAME train_finetune_block7a COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_finetune.sh)
set_tests_properties(train_finetune_block7a PROPERTIES TIMEOUT 900
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_TRAIN_TEST_DIR}/train_finetune_block7a;FROM=block7a")
# from block6a (drop connect in 6b/6c/6d keyed by the global sample index): -np 1 = 2 = 4 only
add_test(NAME train_finetune_block6a COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_finetune.sh)
set_tests_properties(train_finetune_block6a PROPERTIES TIMEOUT 900
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_TRAIN_TEST_DIR}/train_finetune_block6a;FROM=block6a;QUICK=1")
# top_conv with --augment: -np 1 = 2 = 4 only
add_test(NAME train_finetune_augment COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_finetune.sh)
set_tests_properties(train_finetune_augment PROPERTIES TIMEOUT 900
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_TRAIN_TEST_DIR}/train_finetune_augment;FROM=top_conv;QUICK=1;AUGMENT=1")
# one phase-2 step of the whole job against the float64 PyTorch reference, on vkdp's decoded pixels
add_test(NAME train_finetune_vs_torch COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_finetune_vs_torch.sh)
set_tests_properties(train_finetune_vs_torch PROPERTIES TIMEOUT 600
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_TRAIN_TEST_DIR}/train_finetune_vs_torch;DUMP=$<TARGET_FILE:test_dump_inputs>")
# Under the sanitizers these repeat train_e2e's code paths at several times its cost.
set_tests_properties(train_np_equiv train_resume train_augment train_feature_batch train_finetune train_finetune_tiled train_kill_in_flight train_drop_connect_all
  train_finetune_block7a train_finetune_block6a train_finetune_augment train_finetune_vs_torch PROPERTIES LABELS nosan)

# No behaviour change across refactors: a fixed run's checkpoint against committed checksums.
add_test(NAME refactor_identity COMMAND bash ${CMAKE_SOURCE_DIR}/tests/refactor_identity.sh)
set_tests_properties(refactor_identity PROPERTIES
  ENVIRONMENT "${VKDP_MPI_TEST_ENV};TRAINER=$<TARGET_FILE:trainer>;SHARED=${VKDP_SHARED_DIR};WORK=${VKDP_TRAIN_TEST_DIR}/refactor_identity"
  TIMEOUT 900 LABELS nosan)
