// SPDX-License-Identifier: MIT
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
    int errorStatus = 0; // Bad: the status to answer with (400, 413, 431)
    QByteArray error; // Bad: why, in a few words
    QByteArray method;
    QByteArray target;
    HttpMessage message;
    bool keepAlive = true;
    bool http10 = false; // an HTTP/1.0 request: keeping the connection open must be said in the answer
    qsizetype consumed = 0; // Complete: bytes of the buffer the request took
};

constexpr qsizetype kMaxRequestHeadBytes = 64 * 1024;
constexpr qsizetype kMaxRequestBodyBytes = 64 * 1024 * 1024;

ParsedRequest parseHttpRequest(const QByteArray &buffer);

// One HTTP/1.1 answer read from the front of a connection's buffer: the relayer's parser. Interim answers
// (1xx other than 101) are skipped, at most kMaxInterimAnswers of them in kMaxAnswerHeadBytes: only the final
// status is an outcome. The body kept is bounded
// (kMaxAnswerBodyKept); a longer body is not waited for, the connection is closed instead.
struct ParsedResponse
{
    enum State { Incomplete, Complete, Bad };
    State state = Incomplete;
    QByteArray error; // Bad: what was wrong, in a few words
    bool headComplete = false; // the final status line and headers have arrived
    int status = 0;
    QByteArray reason;
    HttpMessage message; // headers, and the first kMaxAnswerBodyKept bytes of the body
    bool keepAlive = true; // Complete: the connection may carry the next request
    qsizetype consumed = 0; // Complete: bytes of the buffer the answer took (when keepAlive)
};

constexpr qsizetype kMaxAnswerHeadBytes = 64 * 1024; // the final head, and all interim heads together
constexpr int kMaxInterimAnswers = 16; // more is a receiver that never answers: a malformed answer
constexpr qsizetype kMaxAnswerBodyKept = 4096;
// An answer body longer than this is not read to its end: the connection is closed after its head.
constexpr qsizetype kMaxAnswerBodyRead = 64 * 1024;

// `closed`: the peer has closed the connection, so a body delimited by the close is complete.
ParsedResponse parseHttpResponse(const QByteArray &buffer, bool closed);

} // namespace outbox
