# Finds cuDNN and reads its version from cudnn_version.h.
#
# Hints (CMake or environment variables): CUDNN_ROOT (then nothing else is searched), CUDNN_INCLUDE_DIR,
# CUDNN_LIBRARY.
# Defines: CUDNN_FOUND, CUDNN_VERSION (e.g. 9.19.0), CUDNN_VERSION_MAJOR/MINOR/PATCH and the imported
# target CUDNN::cudnn.

foreach(_hint CUDNN_ROOT CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
  if(NOT ${_hint} AND DEFINED ENV{${_hint}})
    set(${_hint} "$ENV{${_hint}}")
  endif()
endforeach()

# With CUDNN_ROOT set only that tree is searched: headers of one cuDNN and libraries of another must not
# mix (a second cuDNN, such as PyTorch's nvidia-cudnn wheel, next to the system's).
if(CUDNN_ROOT)
  set(_cudnn_where HINTS ${CUDNN_ROOT} NO_DEFAULT_PATH)
else()
  set(_cudnn_roots)
  if(CUDAToolkit_LIBRARY_ROOT)
    list(APPEND _cudnn_roots ${CUDAToolkit_LIBRARY_ROOT})
  endif()
  list(APPEND _cudnn_roots /usr/local/cuda /usr)
  set(_cudnn_where HINTS ${_cudnn_roots} ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_DIR})
endif()

find_path(CUDNN_INCLUDE_DIR cudnn_version.h ${_cudnn_where}
  PATH_SUFFIXES include include/x86_64-linux-gnu include/aarch64-linux-gnu)
# libcudnn.so.9: a tree that ships only the versioned library (the nvidia-cudnn-cu13 wheel has no
# libcudnn.so link).
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 ${_cudnn_where}
  PATH_SUFFIXES lib64 lib lib/x86_64-linux-gnu lib/aarch64-linux-gnu)

if(CUDNN_INCLUDE_DIR AND EXISTS "${CUDNN_INCLUDE_DIR}/cudnn_version.h")
  file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _cudnn_lines REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
  foreach(_part MAJOR MINOR PATCHLEVEL)
    string(REGEX MATCH "CUDNN_${_part} +([0-9]+)" _m "${_cudnn_lines}")
    set(_cudnn_${_part} "${CMAKE_MATCH_1}")
  endforeach()
  set(CUDNN_VERSION_MAJOR ${_cudnn_MAJOR})
  set(CUDNN_VERSION_MINOR ${_cudnn_MINOR})
  set(CUDNN_VERSION_PATCH ${_cudnn_PATCHLEVEL})
  set(CUDNN_VERSION "${_cudnn_MAJOR}.${_cudnn_MINOR}.${_cudnn_PATCHLEVEL}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CUDNN
  REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR
  VERSION_VAR CUDNN_VERSION)

if(CUDNN_FOUND AND NOT TARGET CUDNN::cudnn)
  add_library(CUDNN::cudnn UNKNOWN IMPORTED)
  set_target_properties(CUDNN::cudnn PROPERTIES
    IMPORTED_LOCATION "${CUDNN_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
  if(CUDNN_ROOT)
    # -I, not -isystem: searched before the CUDA toolkit's include directory, which may hold another
    # cuDNN's headers.
    set_target_properties(CUDNN::cudnn PROPERTIES SYSTEM FALSE IMPORTED_NO_SYSTEM TRUE)
  endif()
endif()
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
