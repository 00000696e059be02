// SPDX-License-Identifier: MIT
// CloudEvents decoding in every content mode: the input is header lines ("name: value"), an empty line,
// then the body. What decodes must encode again and decode to the same attributes.
#include "cloudevents.h"
#include "jsonscan.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    outbox::HttpMessage message;
    qsizetype split = input.indexOf("\n\n");
    const QByteArray head = split < 0 ? QByteArray() : input.left(split);
    message.body = split < 0 ? input : input.mid(split + 2);
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            message.addHeader(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    (void)outbox::cloudevents::countBatchElements(message.body);
    (void)outbox::cloudevents::isValidJson(message.body);
    const outbox::DecodedRequest decoded = outbox::cloudevents::decode(message);
    for (const outbox::ReceivedEvent &e : decoded.events) {
        if (!e.isValid() || !outbox::cloudevents::validate(e.event, outbox::ContentMode::Structured).isEmpty())
            continue;
        // An event that may be sent in structured mode survives a round trip through it.
        const outbox::HttpMessage again = outbox::cloudevents::encode(e.event, outbox::ContentMode::Structured);
        const outbox::DecodedRequest back = outbox::cloudevents::decode(again);
        if (back.events.size() != 1 || back.events.first().event.id != e.event.id
            || back.events.first().event.type != e.event.type)
            __builtin_trap();
    }
    return 0;
}
