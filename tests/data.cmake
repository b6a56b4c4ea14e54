# Image-folder dataset module (trainer/data_*.c).
set(VKDP_FLOWERS "${VKDP_SHARED_DIR}/data/flower_photos")

vkdp_add_test_exe(test_data_split_dump ${CMAKE_SOURCE_DIR}/tests/test_data_split_dump.c)
add_test(NAME data_split_vs_numpy
  COMMAND ${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/data_split_ref.py
          $<TARGET_FILE:test_data_split_dump> ${VKDP_FLOWERS} $<TARGET_FILE:trainer>)
set_tests_properties(data_split_vs_numpy PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

vkdp_add_test_exe(test_data_resize_dump ${CMAKE_SOURCE_DIR}/tests/test_data_resize_dump.c)
add_test(NAME data_resize_vs_numpy
  COMMAND ${VKDP_SYS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/ref/data_resize_ref.py
          $<TARGET_FILE:test_data_resize_dump> ${VKDP_FLOWERS})
set_tests_properties(data_resize_vs_numpy PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

vkdp_add_test_exe(test_data_shard ${CMAKE_SOURCE_DIR}/tests/test_data_shard.c)
add_test(NAME data_shard COMMAND test_data_shard)
set_tests_properties(data_shard PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)

vkdp_add_test_exe(test_data_loader ${CMAKE_SOURCE_DIR}/tests/test_data_loader.c)
add_test(NAME data_loader COMMAND test_data_loader ${VKDP_FLOWERS})
set_tests_properties(data_loader PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 300)

vkdp_add_test_exe(test_data_bad ${CMAKE_SOURCE_DIR}/tests/test_data_bad.c)
add_test(NAME data_bad_input COMMAND test_data_bad ${VKDP_FLOWERS})
set_tests_properties(data_bad_input PROPERTIES ENVIRONMENT "${VKDP_TEST_ENV}" TIMEOUT 120)
