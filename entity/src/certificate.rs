use sea_orm::entity::prelude::*;

/// The certificate of a cleared request. The compact JWS names the subject, so it is sealed
/// under the certificate's id; it is erased with the rest of the personal data, while the row
/// (what verification needs: key, expiry, revocation) stays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub request_id: Uuid,
    pub organisation_id: Uuid,
    pub kid: String,
    pub issued_at: TimeDateTime,
    pub expires_at: TimeDateTime,
    pub jws_sealed: Option<Vec<u8>>,
    pub revoked_at: Option<TimeDateTime>,
    pub revocation_reason_sealed: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
