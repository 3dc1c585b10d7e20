"""Decodes etcd's WatchResponse from its protobuf wire bytes straight into watch_checkers' tuples.

Why not the generated stubs: python-etcd3 0.12's stubs predate the response's `fragment` flag, and
protobuf 3.20 here is the pure-Python implementation, which takes about 60 us per event; a run
receives hundreds of thousands of events on 2 cores shared with three servers, and the decoding
starved the writers. This decoder does the same in about 15 us. test_watch_checkers.py checks it
against the stubs' own encoding.

Fields read (etcd's rpc.proto and kv.proto): WatchResponse { header = 1 (ResponseHeader, whose
revision = 3), watch_id = 2, created = 3, canceled = 4, compact_revision = 5, cancel_reason = 6,
fragment = 7, events = 11 }; Event { type = 1, kv = 2, prev_kv = 3 }; KeyValue { key = 1,
create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6 }. Unknown fields are
skipped, as protobuf requires.
"""

import watch_checkers as checkers

WIRE_VARINT = 0
WIRE_FIXED64 = 1
WIRE_LENGTH_DELIMITED = 2
WIRE_FIXED32 = 5
VARINT_BYTES_MAX = 10
EMPTY_KEY_VALUE = checkers.KeyValue(b"", 0, 0, 0, b"")


class DecodeError(ValueError):
    pass


def read_varint(data, position):
    byte = data[position]
    if byte < 0x80:
        return byte, position + 1
    result = byte & 0x7F
    for shift in range(7, 7 * VARINT_BYTES_MAX, 7):
        position += 1
        byte = data[position]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position + 1
    raise DecodeError("varint longer than %d bytes" % VARINT_BYTES_MAX)


def split_fields(data):
    """[(field number, value)]: an int for a varint, bytes for anything else."""
    fields = []
    position = 0
    end = len(data)
    try:
        while position < end:
            tag, position = read_varint(data, position)
            wire_type = tag & 7
            if wire_type == WIRE_VARINT:
                value, position = read_varint(data, position)
            elif wire_type == WIRE_LENGTH_DELIMITED:
                length, position = read_varint(data, position)
                value = data[position:position + length]
                position += length
            elif wire_type in (WIRE_FIXED64, WIRE_FIXED32):
                size = 8 if wire_type == WIRE_FIXED64 else 4
                value = data[position:position + size]
                position += size
            else:
                raise DecodeError("wire type %d at byte %d" % (wire_type, position))
            fields.append((tag >> 3, value))
    except IndexError:
        raise DecodeError("truncated message of %d bytes" % end) from None
    if position != end:
        raise DecodeError("field runs past the end of a %d-byte message" % end)
    return fields


def signed(value):
    """int64 fields travel as two's complement in 64 bits (watch id -1 is ten bytes)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_key_value(data):
    values = [b"", 0, 0, 0, b""]
    for number, value in split_fields(data):
        if number <= 5:
            values[number - 1] = value
    return checkers.KeyValue(*values)


def decode_event(data):
    event_type = 0
    kv = EMPTY_KEY_VALUE
    prev_kv = None
    for number, value in split_fields(data):
        if number == 1:
            event_type = value
        elif number == 2:
            kv = decode_key_value(value)
        elif number == 3:
            prev_kv = decode_key_value(value)
    return checkers.Event(checkers.PUT if event_type == 0 else checkers.DELETE, kv.key, kv.create_revision,
                          kv.mod_revision, kv.version, kv.value, prev_kv)


def decode_watch_response(data):
    data = bytes(data)
    header_revision = watch_id = compact_revision = 0
    created = canceled = fragment = False
    events = []
    for number, value in split_fields(data):
        if number == 1:
            header_revision = next((signed(item) for field, item in split_fields(value) if field == 3), 0)
        elif number == 2:
            watch_id = signed(value)
        elif number == 3:
            created = bool(value)
        elif number == 4:
            canceled = bool(value)
        elif number == 5:
            compact_revision = signed(value)
        elif number == 7:
            fragment = bool(value)
        elif number == 11:
            events.append(decode_event(value))
    return checkers.response(header_revision, events, watch_id=watch_id, created=created, canceled=canceled,
                             compact_revision=compact_revision, fragment=fragment)
