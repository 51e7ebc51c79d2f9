# Install rules: the libraries, the public headers under include/kiln/ (kiln's headers include each other
# by their path in the source tree, so consumers put include/kiln on the include path), the kiln tool,
# kiln/version.h, the CMake package (find_package(kiln CONFIG): kiln::kiln, kiln::core) and kiln.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

configure_file(${PROJECT_SOURCE_DIR}/cmake/version.h.in ${PROJECT_BINARY_DIR}/include/kiln/version.h @ONLY)

# kiln::kiln: everything (the backend interface engine/runner.h, the GPU engine, the CPU reference path):
# the static libraries, or with BUILD_SHARED_LIBS the shared library. kiln::shared is libkiln.so in
# either case (built from the same objects, so tests can link both from one build); kiln::core is the
# CPU-only part (static).
set(_kiln_libraries kiln_base kiln_formats kiln_planner kiln_layers kiln_core kiln_gpu_runtime kiln_gpu_ops kiln_gpu
    kiln_engine)
add_library(kiln_shared SHARED ${PROJECT_SOURCE_DIR}/engine/shared_library.cpp)
kiln_includes(kiln_shared)
# Each archive once, whole (CMake's WHOLE_ARCHIVE feature refuses libraries that also come in
# transitively), then the libraries they need; --no-undefined proves the set complete. Given as paths,
# the archives are link dependencies: the library relinks when one changes.
set(_archives)
foreach(_lib ${_kiln_libraries})
  list(APPEND _archives "$<TARGET_FILE:${_lib}>")
endforeach()
add_dependencies(kiln_shared ${_kiln_libraries})
target_link_libraries(kiln_shared PRIVATE -Wl,--whole-archive ${_archives} -Wl,--no-whole-archive
                                          yaml-cpp ZLIB::ZLIB CUDA::cublas CUDA::cublasLt
                                  PUBLIC CUDA::cudart CUDNN::cudnn)
target_link_options(kiln_shared PRIVATE "LINKER:--no-undefined"
                    "LINKER:--version-script=${PROJECT_SOURCE_DIR}/cmake/libkiln.map")
set_property(TARGET kiln_shared APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/libkiln.map)
set_target_properties(kiln_shared PROPERTIES OUTPUT_NAME kiln EXPORT_NAME shared VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
                      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)

add_library(kiln_sdk INTERFACE)
if(BUILD_SHARED_LIBS)
  target_link_libraries(kiln_sdk INTERFACE kiln_shared)
else()
  target_link_libraries(kiln_sdk INTERFACE kiln_engine)
endif()
set_target_properties(kiln_sdk PROPERTIES EXPORT_NAME kiln)
set_target_properties(kiln_core PROPERTIES EXPORT_NAME core)

install(TARGETS ${_kiln_libraries} kiln_shared kiln_sdk kiln_warnings EXPORT kilnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS kiln RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(_dir base formats layers engine)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/${_dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "cli" EXCLUDE PATTERN "bench" EXCLUDE
          PATTERN "json_writer.h" EXCLUDE PATTERN "layer_info.h" EXCLUDE)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/include/kiln/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/kiln)

set(_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in ${PROJECT_BINARY_DIR}/kilnConfig.cmake
                              INSTALL_DESTINATION ${_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCUDNN.cmake DESTINATION ${_cmake_dir})

# kiln.pc: libkiln.so with BUILD_SHARED_LIBS, else the static libraries in link order and what they need.
get_filename_component(_cudnn_dir "${CUDNN_LIBRARY}" DIRECTORY)
if(BUILD_SHARED_LIBS)
  set(KILN_PC_LIBS "-lkiln")
  set(KILN_PC_DEPS "-L${CUDAToolkit_LIBRARY_DIR} -lcudart")
else()
  set(KILN_PC_LIBS "-lkiln_engine -lkiln_gpu -lkiln_core -lkiln_gpu_ops -lkiln_layers -lkiln_planner -lkiln_gpu_runtime -lkiln_formats -lkiln_base")
  set(KILN_PC_DEPS "-lyaml-cpp -lz -L${_cudnn_dir} -lcudnn -L${CUDAToolkit_LIBRARY_DIR} -lcublasLt -lcublas -lcudart")
endif()
list(GET CUDAToolkit_INCLUDE_DIRS 0 CUDAToolkit_INCLUDE_DIRS_PC)
# Relocatable: the prefix is found from the .pc file's own folder, wherever the tree was installed.
file(RELATIVE_PATH KILN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/kiln.pc.in ${PROJECT_BINARY_DIR}/kiln.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kiln.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
