# CMake package configuration of ra's C API: find_package(ra CONFIG) gives the
# imported targets ra::ra (shared library) and ra::ra_static (static library),
# both with include/ra.h and the C++ wrapper include/ra.hpp (the static one
# also needs libstdc++, as OpenH264 is C++, and libpipewire-0.3 for the
# Wayland capturer), and ra::cpp: ra::ra for C++
# programs (C++17, which ra.hpp needs). Installed as
# PREFIX/lib/cmake/ra/raConfig.cmake.
get_filename_component(_ra_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET ra::ra)
  add_library(ra::ra SHARED IMPORTED)
  set_target_properties(ra::ra PROPERTIES
    IMPORTED_LOCATION "${_ra_prefix}/lib/libra_ffi.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_ra_prefix}/include")
endif()

if(NOT TARGET ra::ra_static AND EXISTS "${_ra_prefix}/lib/libra_ffi.a")
  find_package(Threads REQUIRED)
  add_library(ra::ra_static STATIC IMPORTED)
  set_target_properties(ra::ra_static PROPERTIES
    IMPORTED_LOCATION "${_ra_prefix}/lib/libra_ffi.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_ra_prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m;stdc++;pipewire-0.3")
endif()

if(NOT TARGET ra::cpp)
  add_library(ra::cpp INTERFACE IMPORTED)
  set_target_properties(ra::cpp PROPERTIES
    INTERFACE_LINK_LIBRARIES ra::ra
    INTERFACE_COMPILE_FEATURES cxx_std_17)
endif()

set(ra_FOUND TRUE)
unset(_ra_prefix)
