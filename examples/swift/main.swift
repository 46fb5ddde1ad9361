// The calls an iOS (or macOS) app makes to HeliosDB Conversational BI through the UniFFI
// bindings: build the engine, ask a question and a follow-up, read typed rows, handle errors.
//
// Build: generate the sources with `bindings/uniffi/generate.sh OUT`, then add
// OUT/swift/ConversationalBI.swift, the ConversationalBIFFI module (header + modulemap) and
// libconversational_bi_ffi (built for the Apple targets) to the Xcode project. Every method is
// `async`: call it from a Task; the engine works on its own threads, never on the main actor.

import Foundation

/// A typed value as text for display.
func show(_ cell: CellValue) -> String {
    switch cell {
    case .null: return "NULL"
    case .bool(let value): return String(value)
    case .int(let value): return String(value)
    case .float(let value): return String(value)
    case .decimal(let value): return value
    case .text(let value): return value
    case .bytes(let value): return "\(value.count) bytes"
    }
}

@main
struct Example {
    static func main() async {
        do {
            // No URL: the built-in demo database and the offline generator. An app passes its
            // database, Engine(databaseUrl: "postgres://..."), or its bundled configuration:
            // Engine.fromToml(toml: String(contentsOf: Bundle.main.url(forResource: "conversational-bi", withExtension: "toml")!)).
            let engine = try Engine()

            let first = try await engine.ask(question: "Which 5 artists have the most tracks?")
            print(first.sql)
            for row in first.rows { print(row.map(show).joined(separator: " | ")) }

            // A follow-up continues the conversation of the first answer.
            let second = try await engine.ask(question: "top 3 instead", sessionId: first.sessionId)
            print("turn \(second.turn): \(second.sql)")
            for row in second.rows { print(row.map(show).joined(separator: " | ")) }

            // Asked as a user: the conversation is theirs, and the roles of the configuration's
            // [access] decide which rows and columns they see.
            let jane = Principal(userId: "jane", roles: ["sales_rep"], attributesJson: #"{"employee_id": 3}"#)
            let mine = try await engine.ask(question: "How many customers are there?", user: jane)
            for row in mine.rows { print(row.map(show).joined(separator: " | ")) }

            _ = try await engine.ask(question: "frobnicate the wibbles")
        } catch let error as ConversationalBiError {
            // One enum, a case per stable code.
            switch error {
            case .CannotAnswer(_, let unknownWords):
                print("not understood: \(unknownWords)")
            case .RateLimited(_, let retryAfterSecs):
                print("too many questions: try again in \(retryAfterSecs) s")
            default:
                print("\(errorCode(error: error)): \(error)")
            }
        } catch {
            print("unexpected: \(error)")
        }
    }
}
