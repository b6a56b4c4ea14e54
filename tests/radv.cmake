# Register spills on AMD GPUs without one (issue 10): every pipeline the code creates (keys
# collected on lavapipe) compiled by RADV's no-hardware device for an RDNA2, an RDNA3 and a CDNA2
# family; a spill fails unless tests/expected/radv_known_spills.txt lists it. Release build only
# (nosan): under the sanitizers it would only repeat pipeline creation, at 3x the time.
set(VKDP_RADV_ICD "/usr/share/vulkan/icd.d/radeon_icd.x86_64.json" CACHE FILEPATH "RADV's ICD json (mesa-vulkan-drivers)")
vkdp_add_test_exe(test_radv_spills ${CMAKE_CURRENT_LIST_DIR}/test_radv_spills.c)
add_test(NAME radv_keys COMMAND test_radv_spills keys ${CMAKE_BINARY_DIR}/radv_keys.txt
  ${VKDP_SHARED_DIR}/weights/efficientnetb0_notop.h5)
set_tests_properties(radv_keys PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" FIXTURES_SETUP radv_keys TIMEOUT 300
  LABELS "radv;nosan")
# Mesa's compiler keeps allocations until exit: leak checking would report Mesa, not vkdp.
set(RADV_ENV ${VKDP_MPI_TEST_ENV})
list(FILTER RADV_ENV EXCLUDE REGEX "^VK_DRIVER_FILES=")
foreach(family navi21 gfx1100 aldebaran)
  add_test(NAME radv_spills_${family} COMMAND test_radv_spills compile ${CMAKE_BINARY_DIR}/radv_keys.txt
    ${CMAKE_SOURCE_DIR}/tests/expected/radv_known_spills.txt ${family})
  set_tests_properties(radv_spills_${family} PROPERTIES FIXTURES_REQUIRED radv_keys TIMEOUT 300 LABELS "radv;nosan"
    ENVIRONMENT "${RADV_ENV};VK_DRIVER_FILES=${VKDP_RADV_ICD};RADV_FORCE_FAMILY=${family};MESA_SHADER_CACHE_DISABLE=true")
endforeach()
