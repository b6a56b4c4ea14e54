# An op's shader variants (storage vs texel buffers, register blocks) against each other in CPU
# time (not part of ctest).
add_executable(bench_op_paths ${CMAKE_CURRENT_LIST_DIR}/bench_op_paths.c)
target_link_libraries(bench_op_paths PRIVATE vkdp_all)
