# Install rules and the Debian package (cpack -G DEB):
#   bin/trainer, share/man/man1/trainer.1.gz (generated from --help at build time),
#   share/vkdp/train.sbatch (Slurm template), share/vkdp/plot_metrics.py, share/doc/vkdp/README.md
include(GNUInstallDirs)

set(VKDP_MAN_DIR ${CMAKE_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${VKDP_MAN_DIR})
find_program(VKDP_GZIP gzip REQUIRED)
add_custom_command(
  OUTPUT ${VKDP_MAN_DIR}/trainer.1.gz
  COMMAND ${CMAKE_COMMAND} -DTRAINER=$<TARGET_FILE:trainer> -DVERSION=${PROJECT_VERSION}
          -DOUT=${VKDP_MAN_DIR}/trainer.1 -P ${CMAKE_SOURCE_DIR}/cmake/manpage.cmake
  # -n: no name or time stamp in the archive, so the package is reproducible (Debian policy 12.1)
  COMMAND ${VKDP_GZIP} -9nf ${VKDP_MAN_DIR}/trainer.1
  DEPENDS trainer ${CMAKE_SOURCE_DIR}/cmake/manpage.cmake
  COMMENT "man page trainer.1 from trainer --help"
  VERBATIM)
add_custom_target(vkdp_manpage ALL DEPENDS ${VKDP_MAN_DIR}/trainer.1.gz)

install(TARGETS trainer RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${VKDP_MAN_DIR}/trainer.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/launch/train.sbatch DESTINATION ${CMAKE_INSTALL_DATADIR}/vkdp)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/launch/plot_metrics.py DESTINATION ${CMAKE_INSTALL_DATADIR}/vkdp)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vkdp)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "vkdp maintainers <vkdp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "data-parallel transfer learning in Vulkan compute shaders with MPI")
set(CPACK_PACKAGE_DESCRIPTION "trainer fine-tunes an ImageNet EfficientNetB0 with the Keras transfer-learning
tutorial's head on a folder of images, on any Vulkan device (lavapipe on CPU-only
machines), data-parallel over MPI ranks, with HDF5 checkpoints and exact resume.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)           # vkdp_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_STRIP_FILES ON)
# Libraries the binary links (libvulkan1, libopenmpi3, libhdf5-103-1, libturbojpeg0, libssl3,
# libc6) come from dpkg-shlibdeps, with their minimum versions; what it cannot see is named here:
# a Vulkan driver (lavapipe, or a GPU's) and mpirun.
set(VKDP_DEB_RUNTIME "mesa-vulkan-drivers | vulkan-icd, openmpi-bin")
find_program(VKDP_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(VKDP_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${VKDP_DEB_RUNTIME}")
else()
  message(STATUS "dpkg-shlibdeps not found (dpkg-dev): the .deb names its library packages without versions")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libvulkan1, libopenmpi3, libhdf5-103-1, libturbojpeg0, libssl3, ${VKDP_DEB_RUNTIME}")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-h5py, python3-matplotlib, slurm-client, hdf5-tools")
include(CPack)
