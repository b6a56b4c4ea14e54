# EfficientNetB0: block table + correct_pad, weights loading (good and bad files), plain-C forward vs
# the independent PyTorch reference, and sha256.
set(VKDP_EFFNET_WEIGHTS ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set(VKDP_EFFNET_TEST_DIR ${CMAKE_BINARY_DIR}/effnet_test)
file(MAKE_DIRECTORY ${VKDP_EFFNET_TEST_DIR})

vkdp_add_test_exe(test_sha256 ${CMAKE_SOURCE_DIR}/tests/test_sha256.c)
add_test(NAME sha256 COMMAND test_sha256 ${VKDP_EFFNET_TEST_DIR}/sha256 ${VKDP_EFFNET_WEIGHTS})

vkdp_add_test_exe(test_effnet_arch ${CMAKE_SOURCE_DIR}/tests/test_effnet_arch.c)
add_test(NAME effnet_arch COMMAND test_effnet_arch)

# Bad weights files made from the real one (in the build tree, never in the repo)
add_test(NAME effnet_bad_weights_files
  COMMAND sh -c "${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/make_bad_weights.py \"$0\" \"$1\" && head -c 6000000 \"$0\" > \"$1/truncated.h5\""
          ${VKDP_EFFNET_WEIGHTS} ${VKDP_EFFNET_TEST_DIR}/bad)
set_tests_properties(effnet_bad_weights_files PROPERTIES FIXTURES_SETUP effnet_bad)
vkdp_add_test_exe(test_effnet_load ${CMAKE_SOURCE_DIR}/tests/test_effnet_load.c)
add_test(NAME effnet_load COMMAND test_effnet_load ${VKDP_EFFNET_WEIGHTS} ${VKDP_EFFNET_TEST_DIR}/bad)
set_tests_properties(effnet_load PROPERTIES FIXTURES_REQUIRED effnet_bad)
# ~15 copies of the 16 MB file: removed once effnet_load ran
add_test(NAME effnet_bad_weights_cleanup COMMAND ${CMAKE_COMMAND} -E rm -rf ${VKDP_EFFNET_TEST_DIR}/bad)
set_tests_properties(effnet_bad_weights_cleanup PROPERTIES FIXTURES_CLEANUP effnet_bad)

# Flower photos -> identical raw inputs + PyTorch features; then the C forward against them
add_test(NAME effnet_ref_inputs
  COMMAND ${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/make_effnet_inputs.py ${VKDP_SHARED_DIR}
          ${VKDP_EFFNET_TEST_DIR}/ref)
set_tests_properties(effnet_ref_inputs PROPERTIES FIXTURES_SETUP effnet_ref)
vkdp_add_test_exe(test_effnet_ref ${CMAKE_SOURCE_DIR}/tests/test_effnet_ref.c)
add_test(NAME effnet_ref_vs_torch COMMAND test_effnet_ref ${VKDP_EFFNET_WEIGHTS} ${VKDP_EFFNET_TEST_DIR}/ref)
set_tests_properties(effnet_ref_vs_torch PROPERTIES FIXTURES_REQUIRED effnet_ref)

set_tests_properties(sha256 effnet_arch effnet_bad_weights_files effnet_load effnet_bad_weights_cleanup
  effnet_ref_inputs effnet_ref_vs_torch PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}")
