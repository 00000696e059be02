#pragma once

#include "cloudevents.h"

#include <QByteArray>

namespace outbox {

// One HTTP/1.1 request read from the front of a connection's buffer: the receiver's parser, kept apart from
// the socket code so that it can be fuzzed on its own. Private to the engine.
struct ParsedRequest
{
    enum State { Incomplete, Complete, Bad };
    State state = Incomplete;
    int errorStatus = 0;     // Bad: the status to answer with (400, 413, 431)
    QByteArray error;        // Bad: why, in a few words
    QByteArray method;
    QByteArray target;
    HttpMessage message;
    bool keepAlive = true;
    bool http10 = false;     // an HTTP/1.0 request: keeping the connection open must be said in the answer
    qsizetype consumed = 0;  // Complete: bytes of the buffer the request took
};

constexpr qsizetype kMaxRequestHeadBytes = 64 * 1024;
constexpr qsizetype kMaxRequestBodyBytes = 64 * 1024 * 1024;

ParsedRequest parseHttpRequest(const QByteArray &buffer);

} // namespace outbox
