# bench_decode: decode + resize images/s, plain loop and prefetching loader at 1 and N threads.
add_executable(bench_decode ${CMAKE_SOURCE_DIR}/tests/bench/bench_decode.c)
target_link_libraries(bench_decode PRIVATE vkdp_all)
