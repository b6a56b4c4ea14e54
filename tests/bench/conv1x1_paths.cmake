# The conv2d_1x1 shaders (storage vs texel buffers, register blocks) against each other in CPU
# time (not part of ctest).
add_executable(bench_conv1x1_paths ${CMAKE_CURRENT_LIST_DIR}/bench_conv1x1_paths.c)
target_link_libraries(bench_conv1x1_paths PRIVATE vkdp_all)
