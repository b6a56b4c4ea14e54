/* Linked with one module's whole static library and only the modules it may depend on (see
 * CMakeLists.txt): the link fails if the module calls a function of a module above it. */
int main(void) { return 0; }
