// fmt's out-of-line part for the riscv64 build (cmake/riscv64-fmt/fmt-config.cmake), compiled
// once. Debian's libfmt-dev has no static archive to link statically, and FMT_HEADER_ONLY would
// compile format-inl.h into every translation unit: about 4 s of compiler time each, half of
// the whole cross build. Here format-inl.h defines the non-template functions, and the
// templates that format.h and core.h declare without defining (its `extern template`
// declarations, dragonbox::to_decimal, locale_ref's constructor and get) are instantiated for
// the types they are used with.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;

template FMT_API void vformat_to(buffer<char>&, string_view, typename vformat_args<>::type,
                                 locale_ref);
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;

}  // namespace detail
FMT_END_NAMESPACE
