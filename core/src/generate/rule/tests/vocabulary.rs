//! Words that name no table or column but are still understood: verbs relating two named
//! things, nouns repeating a table's name, the words of coded values, "N or more", columns
//! named with a code suffix or without "number", and the names asked for beside other columns.

use super::{abstains, generator, same_result, spider, sql};

#[tokio::test]
async fn a_verb_between_two_named_things_is_the_relation_between_them() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "Which albums were produced by AC/DC?");
    assert_eq!(
        s,
        "SELECT Album.Title FROM Album JOIN Artist ON Album.ArtistId = Artist.ArtistId \
         WHERE Artist.Name = 'AC/DC'"
    );
    assert!(same_result(&db, &s, "SELECT Title FROM Album WHERE ArtistId = 1").await);
    // Nothing named after the verb: what was produced is not said.
    let why = abstains(&g, "How many tracks were produced?");
    assert!(why.iter().any(|w| w == "produced"), "{why:?}");
    // A participle naming a state of the rows is a condition the rules cannot write.
    let why = abstains(&g, "Which invoices were accepted by customers in Canada?");
    assert!(why.iter().any(|w| w == "accepted"), "{why:?}");

    let g = spider("college_2").await;
    assert_eq!(
        sql(&g, "How many courses are taught in the Biology department?"),
        sql(&g, "How many courses are in the Biology department?")
    );
}

#[tokio::test]
async fn a_noun_after_a_table_name_repeats_it() {
    let g = spider("activity_1").await;
    assert_eq!(
        sql(&g, "How many faculty members are there?"),
        "SELECT COUNT(*) AS count FROM Faculty"
    );
    // Without the table's name before it, "members" names nothing.
    let why = abstains(&g, "How many members are there?");
    assert!(why.iter().any(|w| w == "members"), "{why:?}");
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "How many customer members are there?"),
        "SELECT COUNT(*) AS count FROM Customer"
    );
}

#[tokio::test]
async fn female_and_male_are_the_codes_of_a_sex_column() {
    let g = spider("activity_1").await;
    assert_eq!(
        sql(&g, "Show the first names of all female faculty members."),
        "SELECT Fname, Lname FROM Faculty WHERE Sex = 'F'"
    );
    assert_eq!(
        sql(&g, "How many men are in the faculty?"),
        "SELECT COUNT(*) AS count FROM Faculty WHERE Sex = 'M'"
    );
    // "gender" names the `Sex` column.
    assert_eq!(
        sql(&g, "How many faculty are there of each gender?"),
        "SELECT Sex, COUNT(*) AS count FROM Faculty GROUP BY Sex"
    );
    // No column holds a sex: the word stays unknown.
    let (g, _) = generator("chinook").await;
    let why = abstains(&g, "How many female customers are there?");
    assert!(why.iter().any(|w| w == "female"), "{why:?}");
}

#[tokio::test]
async fn or_more_after_a_number_is_at_least() {
    let (g, db) = generator("chinook").await;
    let s = sql(&g, "Which artists have 10 or more albums?");
    assert_eq!(s, sql(&g, "Which artists have at least 10 albums?"));
    assert!(s.contains("HAVING COUNT(*) >= 10"), "{s}");
    assert!(
        same_result(
            &db,
            &s,
            "SELECT a.Name FROM Artist a JOIN Album b ON a.ArtistId = b.ArtistId \
             GROUP BY a.ArtistId HAVING COUNT(*) >= 10"
        )
        .await
    );
    let s = sql(&g, "Which artists have 3 or fewer albums?");
    assert!(s.contains("HAVING COUNT(*) <= 3"), "{s}");
    // "or so" is not a bound.
    abstains(&g, "Which artists have 10 or so albums?");
}

#[tokio::test]
async fn a_code_column_is_named_without_its_suffix() {
    let g = spider("apartment_rentals").await;
    assert_eq!(
        sql(&g, "How many apartments are there of each apartment type?"),
        "SELECT apt_type_code, COUNT(*) AS count FROM Apartments GROUP BY apt_type_code"
    );
    assert_eq!(
        sql(&g, "Show the booking status of all apartment bookings."),
        "SELECT booking_status_code FROM Apartment_Bookings"
    );
}

#[tokio::test]
async fn a_phone_number_is_the_phone_column() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        sql(&g, "What are the phone numbers of all employees?"),
        "SELECT Phone FROM Employee"
    );
}

#[tokio::test]
async fn names_asked_beside_other_columns_under_a_condition_on_counts() {
    let g = spider("hospital_1").await;
    assert_eq!(
        sql(
            &g,
            "What are the name and phone number of patients who had more than one appointment?"
        ),
        "SELECT Patient.Name, Patient.Phone, COUNT(*) AS count FROM Appointment \
         JOIN Patient ON Appointment.Patient = Patient.SSN \
         GROUP BY Patient.SSN, Patient.Name, Patient.Phone HAVING COUNT(*) > 1"
    );
    // "the names of studios" where the studio is a column: the studio is the name.
    let g = spider("film_rank").await;
    assert_eq!(
        sql(
            &g,
            "What are the names of studios that have made two or more films?"
        ),
        "SELECT Studio, COUNT(*) AS count FROM film GROUP BY Studio HAVING COUNT(*) >= 2"
    );
}
