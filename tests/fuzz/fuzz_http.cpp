// SPDX-License-Identifier: MIT
// The receiver's HTTP/1.1 request parser, then the CloudEvents reading of each complete request: bytes as
// they might arrive on a socket, several requests in a row. And the relayer's answer parser on the same
// bytes, as a receiver might answer, with the connection open or closed.
#include "cloudevents.h"
#include "httpparse.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QByteArray buffer(reinterpret_cast<const char *>(data), qsizetype(size));
    for (bool closed : {false, true}) {
        const outbox::ParsedResponse a = outbox::parseHttpResponse(buffer, closed);
        if (a.consumed < 0 || a.consumed > buffer.size() || a.message.body.size() > outbox::kMaxAnswerBodyKept)
            __builtin_trap(); // consumes what it read, no more; keeps a bounded body
        if (a.state == outbox::ParsedResponse::Complete && (a.status < 200 || a.status > 999))
            __builtin_trap(); // only a final status is an outcome
        if (closed && a.state == outbox::ParsedResponse::Incomplete && !buffer.isEmpty())
            __builtin_trap(); // a closed connection leaves nothing undecided
    }
    for (int i = 0; i < 16 && !buffer.isEmpty(); ++i) {
        const outbox::ParsedRequest r = outbox::parseHttpRequest(buffer);
        if (r.state != outbox::ParsedRequest::Complete)
            break;
        if (r.consumed <= 0 || r.consumed > buffer.size())
            __builtin_trap(); // the parser must consume what it read, no more
        const outbox::DecodedRequest decoded = outbox::cloudevents::decode(r.message);
        for (const outbox::ReceivedEvent &e : decoded.events)
            (void)outbox::cloudevents::validate(e.event, decoded.mode);
        buffer.remove(0, r.consumed);
    }
    return 0;
}
