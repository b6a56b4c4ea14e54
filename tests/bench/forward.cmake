# Backbone forward throughput (not part of ctest): tests/bench/forward.sh runs it next to
# PyTorch's CPU forward of the same network and prints the ratio.
add_executable(bench_forward ${CMAKE_CURRENT_LIST_DIR}/bench_forward.c)
target_link_libraries(bench_forward PRIVATE vkdp_all)
