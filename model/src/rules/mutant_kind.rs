//! What the kinds of deliberately wrong clients ([`super::mutants::MutantKind`]) and widgets
//! ([`super::widget_mutants::WidgetMutant`]) share, written once: finding one by its name,
//! printing its name, packing it as its place in `ALL`, and every (profile, mutant) pair the
//! test suites show caught.

/// Implements `named`, `checked`, `Display` and `Pack` for a mutant kind with `ALL`, `name` and
/// `shows_under`.
macro_rules! mutant_kind {
    ($kind:ident) => {
        impl $kind {
            /// Every (profile, mutant) pair the test suites show caught: each mutant under every
            /// profile where its defect shows.
            pub fn checked() -> impl Iterator<Item = (::capneg_reference::Profile, $kind)> {
                ::capneg_reference::Profile::ALL.into_iter().flat_map(|p| {
                    $kind::ALL
                        .into_iter()
                        .filter(move |k| k.shows_under(&p))
                        .map(move |k| (p, k))
                })
            }

            /// The mutant called `name`.
            pub fn named(name: &str) -> Option<$kind> {
                $kind::ALL.into_iter().find(|m| m.name() == name)
            }
        }

        impl ::std::fmt::Display for $kind {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        /// A mutant kind packed as its place in `ALL`.
        impl ::capneg_reference::pack::Pack for $kind {
            fn pack(&self, p: &mut ::capneg_reference::pack::Packer<'_>) {
                let i = $kind::ALL
                    .iter()
                    .position(|k| k == self)
                    .unwrap_or_default();
                p.byte(i as u8)
            }
            fn unpack(u: &mut ::capneg_reference::pack::Unpacker<'_>) -> Option<Self> {
                $kind::ALL.get(usize::from(u.byte()?)).copied()
            }
        }
    };
}

pub(crate) use mutant_kind;
