// The receiver's HTTP/1.1 request parser, then the CloudEvents reading of each complete request: bytes as
// they might arrive on a socket, several requests in a row.
#include "cloudevents.h"
#include "httpparse.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QByteArray buffer(reinterpret_cast<const char *>(data), qsizetype(size));
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
