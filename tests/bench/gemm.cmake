add_executable(bench_gemm ${CMAKE_SOURCE_DIR}/tests/bench/bench_gemm.c)
target_link_libraries(bench_gemm PRIVATE vkdp_all)
