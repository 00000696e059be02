// SPDX-License-Identifier: MIT
#include "httpparse.h"

#include <QList>

namespace outbox {

namespace {

// Parses "Transfer-Encoding: chunked" bodies. Returns 1 when complete, 0 when more bytes are needed, -1 on error.
// Keeps at most `keep` bytes of the body in *body (the rest is only skipped over).
int readChunked(
    const QByteArray &buffer, qsizetype start, QByteArray *body, qsizetype *end, qsizetype keep = kMaxRequestBodyBytes)
{
    qsizetype pos = start;
    body->clear();
    for (;;) {
        const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
        if (lineEnd < 0)
            return buffer.size() - pos > 1024 ? -1 : 0;
        bool ok = false;
        const QByteArray sizeText = buffer.mid(pos, lineEnd - pos).split(';').first().trimmed();
        const qint64 size = sizeText.toLongLong(&ok, 16);
        if (!ok || size < 0 || size > kMaxRequestBodyBytes
            || (keep >= kMaxRequestBodyBytes && body->size() + size > kMaxRequestBodyBytes))
            return -1;
        pos = lineEnd + 2;
        if (size == 0) {
            // Trailers end with an empty line.
            const qsizetype trailerEnd = buffer.indexOf("\r\n", pos);
            if (trailerEnd < 0)
                return 0;
            if (trailerEnd == pos) {
                *end = pos + 2;
                return 1;
            }
            const qsizetype blank = buffer.indexOf("\r\n\r\n", pos);
            if (blank < 0)
                return 0;
            *end = blank + 4;
            return 1;
        }
        if (buffer.size() - pos < size + 2)
            return 0;
        body->append(buffer.constData() + pos, qMin<qint64>(size, qMax<qsizetype>(0, keep - body->size())));
        if (buffer.mid(pos + size, 2) != "\r\n")
            return -1;
        pos += size + 2;
    }
}

// What the header lines of a message head say about its framing.
struct Framing
{
    qint64 contentLength = -1; // -1: no Content-Length
    bool conflictingLengths = false; // two Content-Length headers that disagree (the last one is kept)
    bool chunked = false;
    int connection = 0; // Connection: close -1, keep-alive 1, neither 0
};

// Adds each header line (the head's lines after the first) to message and reads the framing; returns what
// is wrong with them, or nullptr.
const char *readHeaders(const QList<QByteArray> &lines, HttpMessage *message, Framing *framing)
{
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return "malformed header line";
        const QByteArray name = line.left(colon).trimmed();
        const QByteArray value = line.mid(colon + 1).trimmed();
        message->addHeader(name, value);
        const QByteArray lower = name.toLower();
        if (lower == "content-length") {
            bool ok = false;
            const qint64 length = value.toLongLong(&ok);
            if (!ok || length < 0)
                return "malformed Content-Length";
            framing->conflictingLengths =
                framing->conflictingLengths || (framing->contentLength >= 0 && length != framing->contentLength);
            framing->contentLength = length;
        } else if (lower == "transfer-encoding") {
            framing->chunked = value.toLower().contains("chunked");
        } else if (lower == "connection") {
            const QByteArray v = value.toLower();
            if (v.contains("close"))
                framing->connection = -1;
            else if (v.contains("keep-alive"))
                framing->connection = 1;
        }
    }
    return nullptr;
}

ParsedRequest bad(int status, const QByteArray &why)
{
    ParsedRequest r;
    r.state = ParsedRequest::Bad;
    r.errorStatus = status;
    r.error = why;
    return r;
}

} // namespace

ParsedRequest parseHttpRequest(const QByteArray &buffer)
{
    ParsedRequest request;
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return buffer.size() > kMaxRequestHeadBytes ? bad(431, "request head larger than 64 KiB") : request;
    if (headEnd > kMaxRequestHeadBytes)
        return bad(431, "request head larger than 64 KiB");
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1."))
        return bad(400, "malformed request line");
    request.method = requestLine.at(0);
    request.target = requestLine.at(1);
    request.http10 = requestLine.at(2) == "HTTP/1.0";
    request.keepAlive = !request.http10;
    Framing framing;
    if (const char *why = readHeaders(lines, &request.message, &framing))
        return bad(400, why);
    // A request with two different lengths is read with the last one (the receiver is a test tool).
    const qint64 contentLength = qMax<qint64>(0, framing.contentLength);
    const bool chunked = framing.chunked;
    if (framing.connection != 0)
        request.keepAlive = framing.connection > 0;
    if (chunked) {
        const int state = readChunked(buffer, headEnd + 4, &request.message.body, &request.consumed);
        if (state == 0)
            return ParsedRequest{};
        if (state < 0)
            return bad(400, "malformed chunked body");
    } else {
        if (contentLength > kMaxRequestBodyBytes)
            return bad(413, "request body larger than 64 MiB");
        if (buffer.size() - (headEnd + 4) < contentLength)
            return ParsedRequest{};
        request.message.body = buffer.mid(headEnd + 4, contentLength);
        request.consumed = headEnd + 4 + contentLength;
    }
    request.state = ParsedRequest::Complete;
    return request;
}

// (Long: one pass over the answer, status line, headers, then the body by its framing; kept in one piece
// because the fuzzer and the RFC read it that way.)
ParsedResponse parseHttpResponse(const QByteArray &buffer, bool closed)
{
    ParsedResponse r;
    auto bad = [&r](const QByteArray &why) {
        r.state = ParsedResponse::Bad;
        r.error = why;
        return r;
    };
    qsizetype pos = 0;
    qsizetype headEnd = -1;
    QList<QByteArray> lines;
    // Interim answers (100 Continue, 102 Processing, 103 Early Hints) come before the final one; a bounded
    // number of them, in bounded bytes, or a receiver could keep the request and its buffer growing for ever.
    for (int interim = 0;; ++interim) {
        if (interim > kMaxInterimAnswers)
            return bad("more than 16 interim (1xx) answers");
        if (pos > kMaxAnswerHeadBytes)
            return bad("interim (1xx) answers larger than 64 KiB");
        headEnd = buffer.indexOf("\r\n\r\n", pos);
        if (headEnd < 0) {
            if (buffer.size() - pos > kMaxAnswerHeadBytes)
                return bad("answer head larger than 64 KiB");
            if (const QByteArray start = buffer.mid(pos, 5); !start.isEmpty() && !QByteArray("HTTP/").startsWith(start))
                return bad("not an HTTP answer");
            return closed ? bad("connection closed in the middle of the answer head") : r;
        }
        if (headEnd - pos > kMaxAnswerHeadBytes)
            return bad("answer head larger than 64 KiB");
        lines = buffer.mid(pos, headEnd - pos).split('\n');
        const QByteArray statusLine = lines.first().trimmed();
        // HTTP/1.x SP 3DIGIT [SP reason]
        if (!statusLine.startsWith("HTTP/1.") || statusLine.size() < 12 || statusLine.at(8) != ' ')
            return bad("malformed status line");
        bool ok = false;
        const int status = statusLine.mid(9, 3).toInt(&ok);
        if (!ok || status < 100 || status > 999 || (statusLine.size() > 12 && statusLine.at(12) != ' '))
            return bad("malformed status line");
        r.status = status;
        r.reason = statusLine.mid(13);
        r.keepAlive = statusLine.at(7) != '0';
        pos = headEnd + 4;
        if (status == 101)
            return bad("the receiver switched protocols (101)");
        if (status >= 200)
            break;
    }
    r.headComplete = true;
    Framing framing;
    if (const char *why = readHeaders(lines, &r.message, &framing))
        return bad(why);
    // Two different lengths: which one frames the body is not known, so the answer is not trusted.
    if (framing.conflictingLengths)
        return bad("malformed Content-Length");
    const qint64 contentLength = framing.contentLength;
    const bool chunked = framing.chunked;
    if (framing.connection != 0)
        r.keepAlive = framing.connection > 0;
    // No body: 204, 304 (and 1xx, skipped above).
    if (r.status == 204 || r.status == 304) {
        r.state = ParsedResponse::Complete;
        r.consumed = pos;
        return r;
    }
    if (chunked) {
        qsizetype end = 0;
        const int state = readChunked(buffer, pos, &r.message.body, &end, kMaxAnswerBodyKept);
        if (state < 0)
            return bad("malformed chunked body");
        if (state == 0) {
            if (!closed)
                return r;
            r.keepAlive = false; // cut short: what arrived is the answer
        } else {
            r.consumed = end;
        }
    } else if (contentLength >= 0) {
        const qint64 available = buffer.size() - pos;
        r.message.body = buffer.mid(pos, qMin<qint64>(qMin<qint64>(available, contentLength), kMaxAnswerBodyKept));
        if (available < contentLength) {
            if (!closed)
                return r;
            r.keepAlive = false;
        } else {
            r.consumed = pos + contentLength;
        }
    } else {
        // Delimited by the end of the connection.
        r.keepAlive = false;
        r.message.body = buffer.mid(pos, kMaxAnswerBodyKept);
        if (!closed)
            return r;
    }
    r.state = ParsedResponse::Complete;
    return r;
}

} // namespace outbox
