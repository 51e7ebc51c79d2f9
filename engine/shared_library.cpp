// libkiln.so has no code of its own: it is kiln's static libraries linked whole (cmake/install.cmake),
// exporting only what base/api.h's KILN_API marks. CMake needs one source file per library target.
