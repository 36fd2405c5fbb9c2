//! The Cranelift JIT (issue 3, in progress). What is here: packing a case into the layout the
//! compiler defines ([`pack`]); code generation comes next. Until then every engine runs the
//! reference interpreter.

pub mod pack;

#[cfg(test)]
mod tests {
    use super::pack::pack;
    use norm_compiler::layout::{Layout, Repr};
    use norm_compiler::value::Value;

    #[test]
    fn scalars_and_masks_land_at_their_offsets() {
        let slots = vec![
            (
                0,
                Layout {
                    size: 8,
                    repr: Repr::I64,
                },
            ),
            (
                8,
                Layout {
                    size: 8,
                    repr: Repr::Bool,
                },
            ),
            (
                16,
                Layout {
                    size: 8,
                    repr: Repr::Mask,
                },
            ),
        ];
        let values = vec![
            Value::Int(-7),
            Value::Bool(true),
            Value::set(vec![Value::Enum(0, 1), Value::Enum(0, 3)]),
        ];
        let p = pack(&slots, &values, 24).unwrap_or_default();
        assert_eq!(p.root, vec![(-7i64) as u64, 1, 0b1010]);
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_refused() {
        let slots = vec![(
            0,
            Layout {
                size: 8,
                repr: Repr::I64,
            },
        )];
        assert!(pack(&slots, &[Value::Bool(true)], 8).is_none());
    }
}
