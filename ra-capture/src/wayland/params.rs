//! The parameters the capturer offers PipeWire: raw 32-bit RGB video of any
//! size, buffers in shared memory, and the damage and cursor metadata.

use std::io::Cursor;

use pipewire::spa::param::ParamType;
use pipewire::spa::param::format::{FormatProperties, MediaSubtype, MediaType};
use pipewire::spa::pod::serialize::PodSerializer;
use pipewire::spa::pod::{ChoiceValue, Object, Property, Value};
use pipewire::spa::sys;
use pipewire::spa::utils::{Choice, ChoiceEnum, ChoiceFlags, Fraction, Id, Rectangle, SpaTypes};

use super::pixels::Layout;

/// Damage rectangles per buffer the capturer asks for (mutter sends up to
/// 32; more than fit become one whole-picture rectangle).
const DAMAGE_RECTS: usize = 32;

/// Largest cursor bitmap side asked for (shapes over
/// [`ra_core::media::CursorShape::MAX_SIDE`] are not sent on, but a bitmap
/// that does not fit would not arrive at all).
const CURSOR_SIDE: usize = 256;

/// The size of cursor metadata holding a `side` × `side` bitmap.
fn cursor_meta_size(side: usize) -> i32 {
    let size = std::mem::size_of::<sys::spa_meta_cursor>()
        + std::mem::size_of::<sys::spa_meta_bitmap>()
        + side * side * 4;
    i32::try_from(size).unwrap_or(i32::MAX)
}

fn serialize(object: Object) -> Result<Vec<u8>, String> {
    PodSerializer::serialize(Cursor::new(Vec::new()), &Value::Object(object))
        .map(|(cursor, _)| cursor.into_inner())
        .map_err(|e| format!("cannot build a PipeWire parameter: {e:?}"))
}

fn id_property(key: u32, id: u32) -> Property {
    Property::new(key, Value::Id(Id(id)))
}

fn int_range(key: u32, default: i32, min: i32, max: i32) -> Property {
    Property::new(
        key,
        Value::Choice(ChoiceValue::Int(Choice(
            ChoiceFlags::empty(),
            ChoiceEnum::Range { default, min, max },
        ))),
    )
}

/// The formats offered: raw video in every accepted [`Layout`] (BGRx
/// first), any size, any frame rate. No modifiers: buffers stay in memory
/// the capturer can read (no DMA-BUF).
pub(super) fn enum_format() -> Result<Vec<u8>, String> {
    let layouts: Vec<Id> = Layout::ALL
        .iter()
        .map(|l| Id(l.to_spa().as_raw()))
        .collect();
    serialize(Object {
        type_: SpaTypes::ObjectParamFormat.as_raw(),
        id: ParamType::EnumFormat.as_raw(),
        properties: vec![
            id_property(
                FormatProperties::MediaType.as_raw(),
                MediaType::Video.as_raw(),
            ),
            id_property(
                FormatProperties::MediaSubtype.as_raw(),
                MediaSubtype::Raw.as_raw(),
            ),
            Property::new(
                FormatProperties::VideoFormat.as_raw(),
                Value::Choice(ChoiceValue::Id(Choice(
                    ChoiceFlags::empty(),
                    ChoiceEnum::Enum {
                        default: layouts[0],
                        alternatives: layouts.clone(),
                    },
                ))),
            ),
            Property::new(
                FormatProperties::VideoSize.as_raw(),
                Value::Choice(ChoiceValue::Rectangle(Choice(
                    ChoiceFlags::empty(),
                    ChoiceEnum::Range {
                        default: Rectangle {
                            width: 1920,
                            height: 1080,
                        },
                        min: Rectangle {
                            width: 1,
                            height: 1,
                        },
                        max: Rectangle {
                            width: 16384,
                            height: 16384,
                        },
                    },
                ))),
            ),
            Property::new(
                FormatProperties::VideoFramerate.as_raw(),
                Value::Choice(ChoiceValue::Fraction(Choice(
                    ChoiceFlags::empty(),
                    ChoiceEnum::Range {
                        default: Fraction { num: 0, denom: 1 },
                        min: Fraction { num: 0, denom: 1 },
                        max: Fraction {
                            num: 1000,
                            denom: 1,
                        },
                    },
                ))),
            ),
        ],
    })
}

/// How many buffers the stream has (default, fewest, most). The capturer
/// copies a picture out as it arrives and gives the buffer straight back, so
/// a few are enough; mutter 43 would otherwise allocate 16 (132 MB of shared
/// memory for one 1080p monitor, each buffer mapped at the start).
const BUFFERS: (i32, i32, i32) = (4, 2, 8);

/// The buffer parameters, once the format is known: memory the stream maps
/// for us (no DMA-BUF), damage metadata and cursor metadata.
pub(super) fn buffers_and_meta() -> Result<Vec<Vec<u8>>, String> {
    let memory = (1 << sys::SPA_DATA_MemPtr) | (1 << sys::SPA_DATA_MemFd);
    let buffers = serialize(Object {
        type_: SpaTypes::ObjectParamBuffers.as_raw(),
        id: ParamType::Buffers.as_raw(),
        properties: vec![
            Property::new(
                sys::SPA_PARAM_BUFFERS_dataType,
                Value::Choice(ChoiceValue::Int(Choice(
                    ChoiceFlags::empty(),
                    ChoiceEnum::Flags {
                        default: memory,
                        flags: Vec::new(),
                    },
                ))),
            ),
            int_range(
                sys::SPA_PARAM_BUFFERS_buffers,
                BUFFERS.0,
                BUFFERS.1,
                BUFFERS.2,
            ),
        ],
    })?;
    let region = std::mem::size_of::<sys::spa_meta_region>();
    let damage = serialize(Object {
        type_: SpaTypes::ObjectParamMeta.as_raw(),
        id: ParamType::Meta.as_raw(),
        properties: vec![
            id_property(sys::SPA_PARAM_META_type, sys::SPA_META_VideoDamage),
            int_range(
                sys::SPA_PARAM_META_size,
                i32::try_from(region * DAMAGE_RECTS).unwrap_or(i32::MAX),
                i32::try_from(region).unwrap_or(i32::MAX),
                i32::try_from(region * DAMAGE_RECTS).unwrap_or(i32::MAX),
            ),
        ],
    })?;
    let cursor = serialize(Object {
        type_: SpaTypes::ObjectParamMeta.as_raw(),
        id: ParamType::Meta.as_raw(),
        properties: vec![
            id_property(sys::SPA_PARAM_META_type, sys::SPA_META_Cursor),
            int_range(
                sys::SPA_PARAM_META_size,
                cursor_meta_size(CURSOR_SIDE),
                cursor_meta_size(1),
                cursor_meta_size(CURSOR_SIDE * 3 / 2),
            ),
        ],
    })?;
    Ok(vec![buffers, damage, cursor])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_serialize() {
        assert!(enum_format().unwrap().len() > 64);
        let params = buffers_and_meta().unwrap();
        assert_eq!(params.len(), 3);
        for param in &params {
            assert!(pipewire::spa::pod::Pod::from_bytes(param).is_some());
        }
    }
}
