// The calls an Android (or any JVM) app makes to HeliosDB Conversational BI through the UniFFI
// bindings: build the engine, ask a question and a follow-up, read typed rows, rate an answer,
// handle errors.
//
// In an app, call `engine.ask(...)` from a coroutine (e.g. `viewModelScope.launch { ... }`):
// the engine works on its own threads, never on the caller's.
// `examples/kotlin/run.sh` generates the bindings, compiles this file with them and runs it.

import com.heliosdb.conversationalbi.AskEvent
import com.heliosdb.conversationalbi.CellValue
import com.heliosdb.conversationalbi.ConversationalBiException
import com.heliosdb.conversationalbi.Engine
import com.heliosdb.conversationalbi.FeedbackSubmission
import com.heliosdb.conversationalbi.Principal
import com.heliosdb.conversationalbi.Rating
import com.heliosdb.conversationalbi.errorCode
import kotlinx.coroutines.runBlocking

/** A typed value as text for display. */
fun show(cell: CellValue): String = when (cell) {
    is CellValue.Null -> "NULL"
    is CellValue.Bool -> cell.value.toString()
    is CellValue.Int -> cell.value.toString()
    is CellValue.Float -> cell.value.toString()
    is CellValue.Decimal -> cell.value
    is CellValue.Text -> cell.value
    is CellValue.Bytes -> "${cell.value.size} bytes"
}

fun main() = runBlocking {
    // No URL: the built-in demo database and the offline generator (no server, no key).
    // An app passes its database, e.g. Engine("postgres://bi_ro:...@db.example.com/sales"),
    // or its configuration: Engine.fromToml(assets.open("conversational-bi.toml").reader().readText()).
    val engine = Engine()

    val first = engine.ask("Which 5 artists have the most tracks?")
    println("> Which 5 artists have the most tracks?\n${first.sql}")
    println(first.columns.joinToString(" | ") { it.name })
    for (row in first.rows) println(row.joinToString(" | ") { show(it) })

    // A follow-up continues the conversation of the first answer.
    val second = engine.ask("top 3 instead", sessionId = first.sessionId)
    println("> top 3 instead (turn ${second.turn})\n${second.sql}")
    for (row in second.rows) println(row.joinToString(" | ") { show(it) })
    check(second.rows.size == 3) { "the follow-up keeps 3 rows" }

    // Streamed: the stages as they begin, the rows as soon as the statement ran, then the
    // answer. Closing the stream frees it, which cancels what remains if the loop stops early.
    val stream = engine.askStream("Total sales by country")
    try {
        val stages = mutableListOf<String>()
        var next = stream.next()
        while (next != null) {
            val event = next
            when (event) {
                is AskEvent.Stage -> stages.add(event.stage)
                is AskEvent.Sql -> println("> Total sales by country (streamed)\n${event.sql}")
                is AskEvent.Rows -> println("${event.rows.size} rows before the explanation")
                is AskEvent.Answer -> println("stages: ${stages.joinToString()}; ${event.answer.explanation}")
            }
            next = stream.next()
        }
        check(stages.firstOrNull() == "guard") { "the stages show before the answer" }
    } finally {
        stream.close()
    }

    // Asked as a user: the conversation is theirs, and the roles of the configuration's
    // [access] decide which rows and columns they see (here no role is configured).
    val jane = Principal(userId = "jane", roles = listOf("sales_rep"), attributesJson = """{"employee_id": 3}""")
    val mine = engine.ask("How many customers are there?", user = jane)
    println("> How many customers are there? (as ${jane.userId})\n${mine.rows.joinToString { row -> row.joinToString { show(it) } }}")
    check(engine.session(mine.sessionId, user = jane).userId == "jane") { "the conversation is jane's" }

    // Jane rates her answer. Feedback is kept where the configuration's [feedback] says: by
    // default an SQLite file in the app's data folder; this example passes its own engine a
    // temporary one.
    val store = java.nio.file.Files.createTempDirectory("cbi-feedback").resolve("feedback.db")
    val rated = Engine.fromToml("[feedback]\npath = \"$store\"\n")
    val answer = rated.ask("How many customers are there?", user = jane)
    val record = rated.feedback(FeedbackSubmission(answer.sessionId, answer.turn, Rating.UP, comment = "right"), user = jane)
    println("feedback ${record.rating} on \"${record.question}\" (${record.status})")
    rated.close()
    store.parent.toFile().deleteRecursively()

    // Errors are one sealed class with a subclass per stable code.
    try {
        engine.ask("frobnicate the wibbles")
        error("the question must not be answered")
    } catch (e: ConversationalBiException.CannotAnswer) {
        println("${errorCode(e)}: not understood: ${e.unknownWords}")
    } catch (e: ConversationalBiException.RateLimited) {
        println("too many questions: try again in ${e.retryAfterSecs} s")
    } catch (e: ConversationalBiException) {
        println("${errorCode(e)}: ${e.message}")
    }
    engine.close()
}
