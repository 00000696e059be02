// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

#include <optional>
#include <utility>

namespace outbox {

/// The one error type of the engine: a category the caller can branch on and a message a user can read.
class Error
{
public:
    /// What kind of error it is, for callers that branch on it.
    enum Code {
        NoError,
        InvalidArgument, ///< bad input from the caller: rejected before anything was written
        NotFound,
        DuplicateId,
        Database, ///< the database refused or failed a statement
        Network,
        Unsupported,
        Busy, ///< the operation conflicts with one already running
    };

    /// No error.
    Error() = default;
    /// An error of this kind, with a message in one line for a person.
    Error(Code code, QString message) : m_code(code), m_message(std::move(message)) { }

    /// Its kind (NoError when it is none).
    Code code() const { return m_code; }
    /// What went wrong, in one line a user can act on; empty for NoError.
    const QString &message() const { return m_message; }
    /// True when it is an error: `if (Error e = call()) ...`.
    ///@{
    bool isError() const { return m_code != NoError; }
    explicit operator bool() const { return isError(); }
    ///@}

private:
    Code m_code = NoError;
    QString m_message;
};

/// A value or an error; the caller must look at which before using the value.
template<typename T>
class Result
{
public:
    /// A value: isOk() is true.
    Result(T value) : m_value(std::move(value)) { }
    /// An error: isOk() is false and there is no value.
    Result(Error error) : m_error(std::move(error)) { }

    /// Whether it holds a value rather than an error.
    bool isOk() const { return !m_error.isError(); }
    /// The error (NoError when isOk()).
    const Error &error() const { return m_error; }
    /// The value; only when isOk().
    ///@{
    const T &value() const { return *m_value; }
    T &value() { return *m_value; }
    const T &operator*() const { return *m_value; }
    T &operator*() { return *m_value; }
    const T *operator->() const { return &*m_value; }
    T *operator->() { return &*m_value; }
    ///@}

private:
    std::optional<T> m_value;
    Error m_error;
};

} // namespace outbox
