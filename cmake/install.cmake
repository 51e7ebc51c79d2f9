# Install rules: the libraries, the public headers under include/kiln/ (kiln's headers include each other
# by their path in the source tree, so consumers put include/kiln on the include path), the kiln tool,
# kiln/version.h, the CMake package (find_package(kiln CONFIG): kiln::kiln, kiln::core) and kiln.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

configure_file(${PROJECT_SOURCE_DIR}/cmake/version.h.in ${PROJECT_BINARY_DIR}/include/kiln/version.h @ONLY)

# kiln::kiln: everything (the backend interface engine/runner.h, the GPU engine, the CPU reference path).
add_library(kiln_sdk INTERFACE)
target_link_libraries(kiln_sdk INTERFACE kiln_engine)
set_target_properties(kiln_sdk PROPERTIES EXPORT_NAME kiln)
set_target_properties(kiln_core PROPERTIES EXPORT_NAME core)

set(_kiln_libraries kiln_base kiln_formats kiln_planner kiln_layers kiln_core kiln_gpu_runtime kiln_gpu_ops kiln_gpu
    kiln_engine)
install(TARGETS ${_kiln_libraries} kiln_sdk kiln_warnings EXPORT kilnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS kiln RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(_dir base formats layers engine)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/${_dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "cli" EXCLUDE PATTERN "bench" EXCLUDE)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/include/kiln/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/kiln)

set(_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in ${PROJECT_BINARY_DIR}/kilnConfig.cmake
                              INSTALL_DESTINATION ${_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCUDNN.cmake DESTINATION ${_cmake_dir})

# kiln.pc: the static libraries in link order, then what they need.
set(KILN_PC_LIBS "-lkiln_engine -lkiln_gpu -lkiln_core -lkiln_gpu_ops -lkiln_layers -lkiln_planner -lkiln_gpu_runtime -lkiln_formats -lkiln_base")
get_filename_component(_cudnn_dir "${CUDNN_LIBRARY}" DIRECTORY)
set(KILN_PC_DEPS "-lyaml-cpp -lz -L${_cudnn_dir} -lcudnn -L${CUDAToolkit_LIBRARY_DIR} -lcublasLt -lcublas -lcudart")
list(GET CUDAToolkit_INCLUDE_DIRS 0 CUDAToolkit_INCLUDE_DIRS_PC)
# Relocatable: the prefix is found from the .pc file's own folder, wherever the tree was installed.
file(RELATIVE_PATH KILN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/kiln.pc.in ${PROJECT_BINARY_DIR}/kiln.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kiln.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
